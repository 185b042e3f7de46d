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

/// How the stack (a `corsair gen` target) keeps CORS headers on errors, crashes and
/// authentication refusals: where the CORS layer must sit.
pub fn error_path_mechanism(stack: &str) -> Option<&'static str> {
    Some(match stack {
        "starlette" => "Starlette/FastAPI: wrap the whole app, app = CORSMiddleware(app, ...), so it sits outside ServerErrorMiddleware; app.add_middleware(CORSMiddleware) sits inside it, and a crash's 500 goes out without CORS headers.",
        "express" => "Express: app.use(cors(...)) before authentication and every route, so the headers are set before anything can fail; error handlers must keep them (do not reset headers, and call next(err) or answer with res.status(...)).",
        "flask" => "Flask: CORS(app) from flask-cors adds the headers in after_request, which also runs for error handlers and an unhandled exception's 500 (not with the debugger on); do not answer errors from a WSGI middleware outside Flask.",
        "django" => "Django: corsheaders.middleware.CorsMiddleware first in MIDDLEWARE, above CommonMiddleware and authentication, so every response (errors included) passes through it.",
        "spring" => "Spring: the CorsFilter before Spring Security (http.cors() with a CorsConfigurationSource), so preflights and 401s get CORS headers.",
        "nginx" => "nginx: add_header ... always (without always, nginx adds headers to 2xx and 3xx answers only, not to errors or its own 502), and answer OPTIONS before auth_basic or auth_request.",
        "apache" => "Apache: Header always set ... (the default onsuccess table skips errors and the proxy's own 502).",
        "caddy" => "Caddy: the same header directives inside handle_errors, and the CORS handling before authentication.",
        "axum" | "tower-http" => "axum: the CORS layer outermost on the router (the last .layer call), with CatchPanicLayer inside it, so a panic's 500 carries the headers.",
        "envoy" | "traefik" | "gateway-api" | "ingress-nginx" => "Let the proxy answer CORS (its CORS filter or middleware) for every answer, its own errors included.",
        _ => return None,
    })
}
