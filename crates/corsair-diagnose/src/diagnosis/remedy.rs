//! What to change where the cause is the path an answer takes: each stack's mechanism for
//! keeping CORS headers on errors, crashes and authentication refusals.

use super::Kind;

/// Whether the cause is not the policy but the path an answer took (an error page, an auth
/// layer, a redirect, a proxy): the fix is where the CORS layer sits, not what it allows.
pub fn is_path_cause(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::AppError
            | Kind::ProxyError
            | Kind::AuthWall
            | Kind::PreflightAuth
            | Kind::MissingRoute
            | Kind::OptionsNotRouted
            | Kind::Redirect
            | Kind::RedirectNullOrigin
            | Kind::DuplicateHeader
            | Kind::CachedOtherOrigin
    )
}

/// How the stack (a `corsair gen` target) fixes a path cause: for a preflight refused before
/// CORS runs (`preflight-auth`, `options-not-routed`), how it answers OPTIONS first; for an
/// error answered without CORS headers (`app-error`, `proxy-error`, `auth-wall`,
/// `missing-route`), where the CORS layer must sit. `None` for the other kinds (a redirect, a
/// second layer, a cache: the remedy says what to change) and for stacks without one.
pub fn path_mechanism(kind: Kind, stack: &str) -> Option<&'static str> {
    match kind {
        Kind::PreflightAuth | Kind::OptionsNotRouted => preflight_mechanism(stack),
        Kind::AppError | Kind::ProxyError | Kind::AuthWall | Kind::MissingRoute => {
            error_path_mechanism(stack)
        }
        _ => None,
    }
}

/// How the stack answers OPTIONS preflights before routing and authentication run.
fn preflight_mechanism(stack: &str) -> Option<&'static str> {
    Some(match stack {
        "starlette" => "Starlette/FastAPI: CORSMiddleware answers preflights itself, before routing; wrap the whole app, app = CORSMiddleware(app, ...), so no route needs OPTIONS and no authentication sees them.",
        "express" => "Express: app.use(cors(...)) before authentication and the routes answers every OPTIONS preflight (204) before they run.",
        "flask" => "Flask: CORS(app) from flask-cors answers the automatic OPTIONS; authentication in before_request must let OPTIONS through (if request.method == 'OPTIONS': return).",
        "django" => "Django: corsheaders.middleware.CorsMiddleware first in MIDDLEWARE answers preflights before authentication middleware runs.",
        "spring" => "Spring: http.cors() with a CorsConfigurationSource, so Spring Security lets preflights through to the CorsFilter.",
        "nginx" => "nginx: answer preflights first in the location, if ($request_method = OPTIONS) { add_header ... always; return 204; } (the rewrite phase runs before auth_basic, auth_request and proxy_pass).",
        "apache" => "Apache: exempt OPTIONS from authentication (<LimitExcept OPTIONS> Require valid-user </LimitExcept>) and answer it with RewriteCond %{REQUEST_METHOD} OPTIONS, RewriteRule ^ - [R=204,L], with Header always set.",
        "caddy" => "Caddy: answer preflights first, in a route written in order: route { @preflight method OPTIONS; respond @preflight 204; basicauth ...; reverse_proxy ... }, with the CORS header directives at the site level (header sorts before basicauth and respond).",
        "axum" | "tower-http" => "axum: the CORS layer outermost (the last .layer call) answers preflights before any authentication layer or route.",
        "envoy" | "traefik" | "gateway-api" | "ingress-nginx" => "Let the proxy's CORS filter or middleware answer preflights, in front of authentication.",
        _ => return None,
    })
}

/// How the stack keeps CORS headers on errors, crashes and authentication refusals: where
/// the CORS layer must sit.
fn error_path_mechanism(stack: &str) -> Option<&'static str> {
    Some(match stack {
        "starlette" => "Starlette/FastAPI: wrap the whole app, app = CORSMiddleware(app, ...), so it sits outside ServerErrorMiddleware; app.add_middleware(CORSMiddleware) sits inside it, and a crash's 500 goes out without CORS headers.",
        "express" => "Express: app.use(cors(...)) before authentication and every route, so the headers are set before anything can fail; error handlers must keep them (do not reset headers, and call next(err) or answer with res.status(...)).",
        "flask" => "Flask: CORS(app) from flask-cors adds the headers in after_request, which also runs for error handlers and an unhandled exception's 500 (not with the debugger on); do not answer errors from a WSGI middleware outside Flask.",
        "django" => "Django: corsheaders.middleware.CorsMiddleware first in MIDDLEWARE, above CommonMiddleware and authentication, so every response (errors included) passes through it.",
        "spring" => "Spring: the CorsFilter before Spring Security (http.cors() with a CorsConfigurationSource), so preflights and 401s get CORS headers.",
        "nginx" => "nginx: add_header ... always (without always, nginx adds headers to 2xx and 3xx answers only, not to errors or its own 502), and answer OPTIONS before auth_basic or auth_request.",
        "apache" => "Apache: Header always set ... (the default onsuccess table skips errors and the proxy's own 502).",
        "caddy" => "Caddy: the header directives at the site level, outside the handle blocks (not deferred, they are set before any handler runs, so errors, handle_errors and the proxy's own 502 keep them); answer preflights before basicauth or forward_auth.",
        "axum" | "tower-http" => "axum: the CORS layer outermost on the router (the last .layer call), with CatchPanicLayer inside it, so a panic's 500 carries the headers.",
        "envoy" | "traefik" | "gateway-api" | "ingress-nginx" => "Let the proxy answer CORS (its CORS filter or middleware) for every answer, its own errors included.",
        _ => return None,
    })
}
