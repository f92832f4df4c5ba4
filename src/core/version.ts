/** The IoTA release version, shown by every program's --version. */
export const VERSION = "0.1.0";
