/** Waiting for work with a time limit. */

/**
 * `work`'s outcome if it settles within `ms`; otherwise what `late()` returns (or throws) then. The work is not
 * cancelled: it goes on, and its outcome is dropped.
 */
export async function settleWithin<T, L = never>(
  work: Promise<T>,
  ms: number,
  late: () => L,
): Promise<T | L> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<L>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(late());
      } catch (error) {
        reject(error);
      }
    }, ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
