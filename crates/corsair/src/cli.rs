//! Argument definitions for every subcommand, in one place.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// CORS, correct by construction and debuggable in seconds.
#[derive(Parser, Debug)]
#[command(name = "corsair", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Send what a browser sends (preflight first when needed), apply its checks, and tell
    /// whether JavaScript could read the response, what the console would say, why, and the fix.
    ///
    /// Exit status: 0 allowed, 1 blocked by CORS, 2 bad input or server unreachable.
    Check(CheckArgs),
    /// Reproduce the classic CORS errors on embedded loopback servers: for each, the request,
    /// the console message, the cause, the fix, and the same request passing on a fixed server.
    ///
    /// Exit status: 0 when every case behaved as shown, 1 otherwise, 2 on bad usage.
    Demo(DemoArgs),
    /// Run a reverse proxy that enforces a CORS policy in front of an HTTP upstream.
    ///
    /// Reloads the policy on SIGHUP and when the file changes; stops gracefully on SIGTERM.
    Serve(ServeArgs),
    /// Run a CORS proxy for APIs you do not own, that is no open relay: pages on `origins`
    /// request http://PROXY/https://api.example.com/path and get the answer with CORS headers;
    /// only `targets` are reached, never a private address, cookies never cross, secrets can be
    /// added server-side, and clients are rate-limited.
    ///
    /// With --check, lints the file and exits: 0 fine, 2 refused.
    Proxy(ProxyArgs),
    /// Serve the front-end dev server and the APIs under one origin, so the page's requests
    /// are same-origin and CORS never applies: the longest --route prefix wins, paths are
    /// forwarded unchanged, WebSockets (hot reload) pass through, Location and Set-Cookie are
    /// rewritten to the dev origin.
    Dev(DevArgs),
    /// Work with policy files.
    Policy(PolicyArgs),
    /// Explain a pasted console error (Chromium, Firefox or Safari; text or stdin): the kind,
    /// the URL and origin, the cause, a checklist and the fix.
    ///
    /// Exit status: 0 recognised, 1 not recognised, 2 unreadable input.
    Explain(ExplainArgs),
    /// Write the policy of a corsair.toml for another server or framework: nginx, apache, caddy,
    /// traefik, envoy, Kubernetes (gateway-api, ingress-nginx), express, starlette (FastAPI),
    /// flask, django, spring, axum (corsair-tower), tower-http.
    ///
    /// Exit status: 0 written, 2 when the target cannot express the policy safely or on bad input.
    Gen(GenArgs),
    /// Scan endpoints for exploitable CORS misconfigurations: Origin mutations (reflection,
    /// null, prefix, suffix, contains, unescaped dots, special characters, subdomains,
    /// localhost, the http twin, third-party hosts, ports), preflight probes, wildcards (with
    /// what the body exposes), invalid values and caching. Each finding is a root cause (the
    /// classes it implies listed), with a severity, the evidence, a curl command and the fix.
    /// Lists of any length stream (--input, --format jsonl, --resume).
    ///
    /// Exit status: 0 nothing at or above --fail-on (or no --fail-on), 1 a finding at or above
    /// it, 2 bad input or a target that could not be audited.
    Audit(AuditArgs),
    /// Serve the debugger as a local web page (embedded in the binary, works offline): check,
    /// live (your browser's real fetch next to corsair's prediction), explain, and a policy
    /// editor with every gen target.
    ///
    /// The page's API answers only the page itself (Host and Origin checked); beyond loopback
    /// it also needs the per-launch token printed at start.
    Ui(UiArgs),
    /// Print the origin of a URL, or compare two: same-origin or not, and which part differs.
    ///
    /// Exit status: 0 for one URL or two same-origin URLs, 1 when they differ, 2 on bad input.
    Origin(OriginArgs),
    /// Print a shell completion script: `corsair completions bash > ~/.local/share/bash-completion/completions/corsair`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff): `corsair man > ~/.local/share/man/man1/corsair.1`.
    Man,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: ShellArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShellArg {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// `--browser`: one engine, by the names the model reads ([`corsair_core::Browser`]'s name and
/// aliases), or `all`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrowserArg {
    Chromium,
    Firefox,
    Safari,
    /// Every engine, each sending its own requests: one verdict per engine, and which fails
    /// first.
    All,
}

impl ValueEnum for BrowserArg {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            BrowserArg::Chromium,
            BrowserArg::Firefox,
            BrowserArg::Safari,
            BrowserArg::All,
        ]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use clap::builder::PossibleValue;
        Some(match self.engines().as_slice() {
            [one] => PossibleValue::new(one.name()).aliases(one.aliases().iter().copied()),
            _ => PossibleValue::new("all").help(
                "Every engine, each sending its own requests: one verdict per engine, and which \
                 fails first",
            ),
        })
    }
}

impl BrowserArg {
    /// The engines this choice stands for.
    pub fn engines(self) -> Vec<corsair_core::Browser> {
        use corsair_core::Browser;
        match self {
            BrowserArg::Chromium => vec![Browser::Chromium],
            BrowserArg::Firefox => vec![Browser::Firefox],
            BrowserArg::Safari => vec![Browser::Safari],
            BrowserArg::All => Browser::ALL.to_vec(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ApiArg {
    /// fetch()
    Fetch,
    /// XMLHttpRequest
    Xhr,
    /// a web font (@font-face): always CORS, no cookies cross-origin
    Font,
    /// <img>: CORS only with --crossorigin
    Image,
    /// a classic <script>: CORS only with --crossorigin
    Script,
    /// <script type=module>: always CORS
    Module,
    /// <link rel=stylesheet>: CORS only with --crossorigin
    Stylesheet,
}

impl From<ApiArg> for corsair_core::RequestApi {
    fn from(a: ApiArg) -> corsair_core::RequestApi {
        use corsair_core::RequestApi;
        match a {
            ApiArg::Fetch => RequestApi::Fetch,
            ApiArg::Xhr => RequestApi::Xhr,
            ApiArg::Font => RequestApi::Font,
            ApiArg::Image => RequestApi::Image,
            ApiArg::Script => RequestApi::Script,
            ApiArg::Module => RequestApi::Module,
            ApiArg::Stylesheet => RequestApi::Stylesheet,
        }
    }
}

/// An element's crossorigin attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CrossOriginArg {
    Anonymous,
    UseCredentials,
}

/// An address space, as Chromium names them since 142.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SpaceArg {
    Public,
    Local,
    Loopback,
}

impl From<SpaceArg> for corsair_core::lna::AddressSpace {
    fn from(s: SpaceArg) -> Self {
        use corsair_core::lna::AddressSpace;
        match s {
            SpaceArg::Public => AddressSpace::Public,
            SpaceArg::Local => AddressSpace::Local,
            SpaceArg::Loopback => AddressSpace::Loopback,
        }
    }
}

/// `--lna-permission`: `granted` or `denied` for both permissions, or one of them by name
/// (`loopback-network=granted`, `local-network=denied`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LnaPermissionArg {
    pub loopback: Option<corsair_core::lna::Permission>,
    pub local: Option<corsair_core::lna::Permission>,
}

impl std::str::FromStr for LnaPermissionArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        use corsair_core::lna::Permission;
        let state = |v: &str| match v {
            "granted" => Ok(Permission::Granted),
            "denied" => Ok(Permission::Denied),
            "prompt" => Ok(Permission::Prompt),
            other => Err(format!(
                "'{other}' is not a permission state: use granted or denied (or \
                leave the flag out for a fresh profile's undecided permission)"
            )),
        };
        match s.split_once('=') {
            None => {
                let p = state(s)?;
                Ok(LnaPermissionArg {
                    loopback: Some(p),
                    local: Some(p),
                })
            }
            Some(("loopback-network", v)) => Ok(LnaPermissionArg {
                loopback: Some(state(v)?),
                local: None,
            }),
            Some(("local-network", v)) => Ok(LnaPermissionArg {
                loopback: None,
                local: Some(state(v)?),
            }),
            Some((name, _)) => Err(format!(
                "'{name}' is not a Local Network Access permission: use \
                loopback-network=STATE or local-network=STATE, or granted/denied for both"
            )),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StackArg {
    Express,
    /// FastAPI or Starlette, as `corsair gen starlette`.
    Fastapi,
    Starlette,
    Flask,
    Django,
    Spring,
    Nginx,
    Apache,
    Caddy,
    Traefik,
    Envoy,
    GatewayApi,
    IngressNginx,
    /// axum behind corsair-tower, as `corsair gen axum`.
    Axum,
    /// axum with tower-http's CorsLayer, as `corsair gen tower-http`.
    TowerHttp,
    /// Every stack above.
    All,
}

impl StackArg {
    /// The `corsair gen` targets this choice prints.
    pub fn targets(self) -> Vec<corsair_core::gen::Target> {
        use corsair_core::gen::Target;
        match self {
            StackArg::All => Target::ALL.to_vec(),
            StackArg::Fastapi | StackArg::Starlette => vec![Target::Starlette],
            other => {
                let name = other
                    .to_possible_value()
                    .map(|v| v.get_name().to_string())
                    .unwrap_or_default();
                Target::ALL
                    .into_iter()
                    .filter(|t| t.name() == name)
                    .collect()
            }
        }
    }
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The URL the page fetches (http:// or https://).
    #[arg(required_unless_present_any = ["from_curl", "from_fetch"])]
    pub url: Option<String>,
    /// The page's origin, e.g. https://app.example.com (or `null` for a sandboxed page). With
    /// --from-curl or --from-fetch it is read from the copied Origin or Referer when absent.
    #[arg(long)]
    pub origin: Option<String>,
    /// The request as DevTools' "Copy as cURL" wrote it (bash or cmd quoting; `-` reads it from
    /// stdin): URL, method, headers, body and credentials come from it, and the page's origin
    /// from its Origin or Referer header. Headers the browser sets itself are dropped and listed.
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["url", "from_fetch", "method", "headers", "data"])]
    pub from_curl: Option<String>,
    /// The request as DevTools' "Copy as fetch" wrote it (Chromium's or Firefox's; `-` reads it
    /// from stdin), read like --from-curl; the origin comes from its `referrer`.
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["url", "method", "headers", "data"])]
    pub from_fetch: Option<String>,
    /// The request method, as the page writes it (fetch upper-cases only DELETE, GET, HEAD,
    /// OPTIONS, POST and PUT).
    #[arg(long, short = 'X', default_value = "GET")]
    pub method: String,
    /// A request header the page sets, 'Name: value'. Repeat for more.
    #[arg(long = "header", short = 'H', value_name = "'Name: value'")]
    pub headers: Vec<String>,
    /// Send credentials (fetch `credentials: 'include'`, XHR `withCredentials = true`).
    #[arg(long)]
    pub credentials: bool,
    /// A request body (fetch labels a string body `text/plain;charset=UTF-8` unless
    /// Content-Type is given).
    #[arg(long, short = 'd')]
    pub data: Option<String>,
    /// The browser whose rules and messages to apply; `all` checks with each engine in turn
    /// and reports one verdict per engine.
    #[arg(long, value_enum, default_value = "chromium")]
    pub browser: BrowserArg,
    /// What makes the request: fetch or XHR, or an element (font, image, script, module,
    /// stylesheet), each with its own mode, credentials and console wording. Elements make a
    /// plain GET.
    #[arg(long, value_enum, default_value = "fetch")]
    pub api: ApiArg,
    /// The element's crossorigin attribute (image, script, stylesheet: without it the request
    /// is no-cors, and CORS does not apply; module: use-credentials sends cookies).
    #[arg(long, value_enum, value_name = "anonymous|use-credentials")]
    pub crossorigin: Option<CrossOriginArg>,
    /// Local Network Access (Chromium): the page's address space. Default: from its origin
    /// (an IP address's own space, loopback for localhost, public for other names).
    #[arg(long, value_enum, value_name = "public|local|loopback")]
    pub page_space: Option<SpaceArg>,
    /// Local Network Access: count the target as in this space. Default: the space of the
    /// address it connects to, as Chromium derives it.
    #[arg(long, value_enum, value_name = "public|local|loopback")]
    pub target_space: Option<SpaceArg>,
    /// Local Network Access: the page's permission, granted or denied (both permissions), or
    /// loopback-network=STATE / local-network=STATE. Absent: a fresh profile's undecided
    /// permission, which headless Chromium denies and a desktop browser asks the user about.
    #[arg(long, value_name = "granted|denied")]
    pub lna_permission: Vec<LnaPermissionArg>,
    /// The targetAddressSpace option of fetch(): the space the page declares the target is in.
    #[arg(long, value_enum, value_name = "public|local|loopback")]
    pub target_address_space: Option<SpaceArg>,
    /// Connect to ADDR for HOST:PORT instead of resolving HOST (like curl --resolve: ADDR1,ADDR2
    /// for several; entries for the same HOST:PORT add up). Repeat for more.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// Trust the CA certificates in this PEM file (in addition to the built-in roots).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Do not verify the server's TLS certificate.
    #[arg(long, short = 'k')]
    pub insecure: bool,
    /// Seconds to wait for each response head (connect included).
    #[arg(long, default_value_t = 10.0, value_name = "S")]
    pub timeout: f64,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also print the fix as code for this stack.
    #[arg(long, value_enum)]
    pub stack: Option<StackArg>,
    /// Send the preflight alone, never the request itself: for a PUT, DELETE or POST that
    /// would change data. Reports whether the preflight passes and the request the browser
    /// would send next. Exit 0 when the preflight passes (or none is needed), 1 when it fails.
    #[arg(long)]
    pub preflight_only: bool,
    /// Send only what the browser sends. By default the diagnosis sends a few extra requests,
    /// GET, HEAD and OPTIONS only (OPTIONS only with --preflight-only): the failed request
    /// again to read its body, a preflight asking what the server allows, and on a green
    /// verdict the same request from an unrelated origin and from `null`.
    #[arg(long)]
    pub no_probes: bool,
}

#[derive(Args, Debug)]
pub struct ProxyArgs {
    /// The proxy file (listen, admin, [proxy]).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
    /// Lint the file and exit.
    #[arg(long)]
    pub check: bool,
    /// Listen address, overriding the file's `listen` (default 127.0.0.1:8787).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// Connect to ADDR for HOST:PORT instead of resolving HOST (like curl --resolve: ADDR1,ADDR2
    /// for several; entries for the same HOST:PORT add up). Every address still passes the
    /// private-address guard: one private address among public ones refuses the name. Repeat
    /// for more.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// Trust the CA certificates in this PEM file for https targets (besides the web's roots).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Log format on stderr (one access line per request).
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

#[derive(Args, Debug)]
pub struct DevArgs {
    /// The address to serve on (the origin to open in the browser).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:3000")]
    pub listen: String,
    /// The front-end dev server (Vite, webpack, ...): everything no route takes.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// PREFIX=URL: requests under PREFIX go to URL, path unchanged. Repeat for more.
    #[arg(long = "route", value_name = "PREFIX=URL")]
    pub routes: Vec<String>,
    /// Also answer requests for this host name (besides localhost, *.localhost and IP
    /// addresses), e.g. a name in /etc/hosts. Any other Host is refused: a page whose name
    /// resolves to this machine (DNS rebinding) cannot read the dev server. Repeat for more.
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_hosts: Vec<String>,
}

#[derive(Args, Debug)]
pub struct OriginArgs {
    /// A URL or origin.
    pub url: String,
    /// A second URL or origin to compare with the first.
    pub other: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Run one case (see --list).
    #[arg(long, value_name = "NAME")]
    pub case: Option<String>,
    /// List the cases and exit.
    #[arg(long)]
    pub list: bool,
    /// After the run, keep the broken and fixed servers up and print their URLs, to try the
    /// cases in a real browser.
    #[arg(long)]
    pub serve: bool,
    /// With --serve, stop after this many seconds instead of waiting for Ctrl-C.
    #[arg(long, value_name = "S", requires = "serve", value_parser = seconds)]
    pub serve_for: Option<f64>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The policy file (corsair.toml).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
    /// Listen address, overriding the file's `listen`.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// Upstream URL, overriding the file's `upstream`.
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
    /// Where to serve /metrics and /healthz, overriding the file's `admin`.
    #[arg(long, value_name = "ADDR:PORT")]
    pub admin: Option<String>,
    /// The environment overlay to apply ([env.NAME]); default: $CORSAIR_ENV.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Worker threads, each with its own event loop (default: one per CPU).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub workers: Option<u16>,
    /// Log format (on stderr; filter with CORSAIR_LOG, e.g. CORSAIR_LOG=debug).
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

#[derive(Args, Debug)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Validate a policy file: every error and warning with line, column and fix.
    ///
    /// Exit status: 0 valid (warnings allowed), 1 errors, 2 unreadable file.
    Lint {
        /// The policy file.
        file: PathBuf,
        /// The environment overlay to apply ([env.NAME]); default: $CORSAIR_ENV.
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The console error; read from standard input when absent.
    pub text: Option<Vec<String>>,
    /// The page's origin, when the message does not name it (Firefox's and Safari's wordings).
    #[arg(long)]
    pub origin: Option<String>,
    /// The method the page used, when the message does not name it.
    #[arg(long, short = 'X')]
    pub method: Option<String>,
    /// A request header the page sets, 'Name: value'. Repeat for more.
    #[arg(long = "header", short = 'H', value_name = "'Name: value'")]
    pub headers: Vec<String>,
    /// The page sends credentials (fetch `credentials: 'include'`, XHR `withCredentials`).
    #[arg(long)]
    pub credentials: bool,
    /// Also print the fix as code for this stack.
    #[arg(long, value_enum)]
    pub stack: Option<StackArg>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Args, Debug)]
pub struct GenArgs {
    /// nginx, apache, caddy, traefik, envoy, gateway-api (a Kubernetes HTTPRoute), ingress-nginx
    /// (an Ingress), express, starlette (or fastapi), flask, django, spring, axum
    /// (corsair-tower), tower-http (axum with tower-http's CorsLayer).
    pub target: String,
    /// The policy file.
    #[arg(long, short = 'c', value_name = "FILE", default_value = "corsair.toml")]
    pub config: PathBuf,
    /// Address the generated server listens on (default: the file's `listen`, else 127.0.0.1:8080).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// Upstream a generated proxy forwards to (default: the file's `upstream`).
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write `corsair dev`'s setup as a dev server's own proxy configuration instead of a
    /// policy: vite (vite.config.mjs), webpack (webpack.config.js), cra (src/setupProxy.js) or
    /// angular (proxy.conf.json), with --to and --route as `corsair dev` takes them.
    #[arg(long, requires = "to")]
    pub dev: bool,
    /// With --dev: the dev server itself (its host and port).
    #[arg(long, value_name = "URL", requires = "dev")]
    pub to: Option<String>,
    /// With --dev: PREFIX=URL, as `corsair dev --route`. Repeat for more.
    #[arg(long = "route", value_name = "PREFIX=URL", requires = "dev")]
    pub routes: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// A readable report.
    Text,
    /// One JSON object with a "findings" array.
    Json,
    /// One JSON object a line, printed as each target completes.
    Jsonl,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum FailOn {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// The endpoints to audit (http:// or https:// URLs).
    #[arg(value_name = "URL")]
    pub urls: Vec<String>,
    /// Read more URLs from FILE, one a line ('-' for stdin; blank lines and # comments skipped).
    /// The list is read as the audit goes (any length, bounded memory); a line that is not a
    /// URL is reported as that target's error.
    #[arg(long, short = 'i', value_name = "FILE|-")]
    pub input: Option<String>,
    /// The origin the endpoints trust. Default: https:// + each URL's host.
    #[arg(long, value_name = "TRUSTED_ORIGIN")]
    pub origin: Option<String>,
    /// Connect to ADDR for HOST:PORT instead of resolving HOST (like curl --resolve: ADDR1,ADDR2
    /// for several; entries for the same HOST:PORT add up). Repeat for more.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// A header sent with every GET probe, 'Name: value' (a session cookie or token: findings
    /// then tell whether your credentials unlock data). Never sent on preflights. Repeat for more.
    #[arg(long = "header", short = 'H', value_name = "'Name: value'")]
    pub headers: Vec<String>,
    /// Trust the CA certificates in this PEM file too.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Do not verify TLS certificates.
    #[arg(long, short = 'k')]
    pub insecure: bool,
    /// Send every request through this HTTP proxy (http://HOST:PORT; CONNECT for https targets).
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Requests in flight at once, over all targets.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub concurrency: usize,
    /// Requests in flight at once to one host.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub per_host: usize,
    /// At most R requests a second over all targets (0: no limit).
    #[arg(long, default_value_t = 0.0, value_name = "R")]
    pub rate: f64,
    /// At most R requests a second to any one host (0: no limit).
    #[arg(long, default_value_t = 0.0, value_name = "R")]
    pub per_host_rate: f64,
    /// Keep a journal in FILE (JSON lines, as --format jsonl writes them): targets it records
    /// as done are skipped, and each target that finishes is appended as it finishes, so an
    /// interrupted audit of a long --input list picks up where it stopped. A journal written
    /// with other --origin, -H or --resolve options is refused.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<std::path::PathBuf>,
    /// Seconds to wait for each response.
    #[arg(long, default_value_t = 10.0, value_name = "S")]
    pub timeout: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// No progress bar (it is drawn only on a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Args, Debug)]
pub struct UiArgs {
    /// Where to listen. Beyond loopback, the API needs the token printed at start.
    #[arg(long, default_value = "127.0.0.1:7070", value_name = "ADDR:PORT")]
    pub listen: String,
    /// Open the page in the default browser (xdg-open).
    #[arg(long)]
    pub open: bool,
    /// Stop after S seconds instead of at Ctrl-C.
    #[arg(long, value_name = "S", value_parser = seconds)]
    pub serve_for: Option<f64>,
    /// Also serve the Live page at your app's own origin (a loopback origin with its port, e.g.
    /// http://localhost:5173), so Live mode fetches from the origin your API really allows. The
    /// port must be free: stop the dev server on it while you test.
    #[arg(long, value_name = "ORIGIN")]
    pub live_origin: Option<String>,
}

/// A number of seconds for a flag such as --serve-for: above 0 and at most a year (a negative,
/// infinite or NaN value would panic where it becomes a `Duration`).
fn seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 365.0 * 86_400.0 => Ok(v),
        _ => Err(format!("{s} is not a number of seconds above 0 (e.g. 30)")),
    }
}
