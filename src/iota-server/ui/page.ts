/** The dashboard's one HTML page: landmarks and a skip link; the script fills <main> from the API. */

/**
 * The page at /ui/. It holds no data and no inline script or style (the CSP allows neither); paths are
 * relative so the page works under any prefix a reverse proxy gives /ui/.
 */
export function pageHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>IoTA dashboard</title>
<link rel="icon" href="icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="app.css">
<script type="module" src="app.js"></script>
</head>
<body>
<a class="skip-link" href="#main" id="skip-link">Skip to content</a>
<header class="top">
  <a class="brand" href="#/">IoTA</a>
  <nav aria-label="Main" id="nav"></nav>
  <div class="session" id="session"></div>
</header>
<main id="main" tabindex="-1">
  <noscript><p>The IoTA dashboard needs JavaScript. The same data is in the API: GET /v1/openapi.json.</p></noscript>
</main>
<footer class="foot"><p>Everything shown here comes from the IoTA API (<a href="../v1/openapi.json">OpenAPI</a>).</p></footer>
</body>
</html>
`;
}
