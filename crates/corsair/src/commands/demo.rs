//! `corsair demo`: runs every classic CORS failure against embedded loopback servers and shows,
//! for each, the request, what the browser prints, the cause, the fix, and the same request
//! passing against a fixed server.

use crate::cli::{DemoArgs, Format};
use crate::style::{BAD, CORS, DIM, GOOD, HEAD};
use crate::{EXIT_BLOCKED, EXIT_ERROR, EXIT_OK};
use anstream::{eprintln, println};
use corsair_core::{fix, Browser, Fetch, Outcome, RequestSpec};
use corsair_demo::{cases, server};
use corsair_net::client::Client;
use serde_json::json;
use std::time::Duration;

pub fn run(args: DemoArgs) -> u8 {
    if args.list {
        for c in cases::CASES {
            println!("{:<40} {}", c.name, c.title);
        }
        return EXIT_OK;
    }
    let selected: Vec<&cases::Case> = match &args.case {
        Some(name) => match cases::find(name) {
            Some(c) => vec![c],
            None => {
                let names: Vec<&str> = cases::CASES.iter().map(|c| c.name).collect();
                eprintln!(
                    "{BAD}error:{BAD:#} no demo case '{name}'; the cases are: {}",
                    names.join(", ")
                );
                return EXIT_ERROR;
            }
        },
        None => cases::CASES.iter().collect(),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{BAD}error:{BAD:#} cannot start the async runtime: {e}");
            return EXIT_ERROR;
        }
    };
    runtime.block_on(demo(args, selected))
}

async fn demo(args: DemoArgs, selected: Vec<&'static cases::Case>) -> u8 {
    let servers = match server::start().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{BAD}error:{BAD:#} cannot open a loopback port for the demo servers: {e}");
            return EXIT_ERROR;
        }
    };
    let client =
        Client::new(Vec::new(), None, false, Duration::from_secs(5)).expect("default TLS config");
    let mut results = Vec::new();
    for (i, c) in selected.iter().enumerate() {
        let spec = |variant: &str| {
            c.request(
                format!("{}/{variant}/{}", servers.api, c.name),
                &servers.page,
            )
        };
        let fetch =
            |s: RequestSpec| Fetch::new(&s, Browser::Chromium).expect("demo requests are valid");
        let broken = client.drive(fetch(spec("broken"))).await;
        let mut fixed_spec = spec("fixed");
        if c.public_page {
            // The fix for Local Network Access is the user's permission, not a header.
            fixed_spec.lna.permissions =
                corsair_core::lna::Permissions::both(corsair_core::lna::Permission::Granted);
        }
        let fixed = client.drive(fetch(fixed_spec)).await;
        let expected = match c.expect {
            cases::Expect::Cors(kind) => broken.failure.as_ref().map(|f| f.kind) == Some(kind),
            cases::Expect::Lna => broken.lna_blocked().is_some(),
        };
        let ok = !broken.allowed && expected && fixed.allowed;
        if args.format == Format::Text {
            print_case(i + 1, selected.len(), c, &broken, &fixed, ok);
        }
        results.push((c, broken, fixed, ok));
    }
    let failed = results.iter().filter(|r| !r.3).count();
    match args.format {
        Format::Json => {
            let cases: Vec<_> = results
                .iter()
                .map(|(c, b, f, ok)| {
                    json!({
                        "name": c.name,
                        "title": c.title,
                        "request": {"method": c.method, "url": b.request.url.as_str(), "origin": servers.page, "headers": c.headers, "credentials": c.credentials, "api": c.api.name(), "page_space": c.public_page.then_some("public")},
                        "broken": {"allowed": b.allowed, "preflight": b.preflight, "kind": b.failure.as_ref().map(|f| f.kind.id()).or(b.lna_blocked().map(|_| "lna-permission-denied")), "console": b.console(), "cause": b.cause(), "fix": b.failure.as_ref().map(|fl| fix::fix(fl, &b.request)), "lna_fixes": b.lna_blocked().map(|l| l.fixes(&servers.page))},
                        "fixed": {"allowed": f.allowed, "preflight": f.preflight, "url": f.request.url.as_str()},
                        "policy": cases::policy_for(c, &servers.page).ok().map(|p| fix::policy_toml(&p)),
                        "ok": ok,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&json!({"page": servers.page, "api": servers.api, "cases": cases, "passed": results.len() - failed, "failed": failed})).expect("JSON"));
        }
        Format::Text => {
            println!(
                "{HEAD}{} of {} cases reproduced and fixed{HEAD:#}",
                results.len() - failed,
                results.len()
            );
            println!(
                "{DIM}Try one yourself: corsair check URL --origin ORIGIN; keep these servers \
                up for a real browser: corsair demo --serve{DIM:#}"
            );
        }
    }
    if args.serve {
        // With --format json, stdout carries only the JSON document; the serving notes go to stderr.
        let note = |line: String| {
            if args.format == Format::Json {
                eprintln!("{line}");
            } else {
                println!("{line}");
            }
        };
        note(format!(
            "\n{HEAD}Serving the demo{HEAD:#}: open {}/ in a browser and press the \
            buttons (developer tools console open).",
            servers.page
        ));
        note(format!(
            "  API: {}/broken/CASE and {}/fixed/CASE",
            servers.api, servers.api
        ));
        match args.serve_for {
            Some(secs) => tokio::time::sleep(Duration::from_secs_f64(secs)).await,
            None => {
                note("  Ctrl-C to stop.".to_string());
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    if failed == 0 {
        EXIT_OK
    } else {
        EXIT_BLOCKED
    }
}

fn print_case(
    n: usize,
    total: usize,
    c: &cases::Case,
    broken: &Outcome,
    fixed: &Outcome,
    ok: bool,
) {
    println!("{HEAD}── {n}/{total} {}{HEAD:#}: {}", c.name, c.title);
    let r = &broken.request;
    let headers: Vec<String> = c.headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
    println!(
        "  page {}{}  {} {} {}{}{}",
        r.origin,
        if c.public_page {
            " (counted as public)"
        } else {
            ""
        },
        r.api.chromium_resource(),
        r.method,
        r.url,
        if headers.is_empty() {
            String::new()
        } else {
            format!("  [{}]", headers.join("; "))
        },
        if c.credentials {
            "  credentials: include"
        } else {
            ""
        }
    );
    if broken.preflight {
        println!(
            "  {DIM}preflight: {}{DIM:#}",
            r.preflight_reasons
                .iter()
                .map(|p| p.describe())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    if broken.allowed {
        println!("  {BAD}broken server: allowed?!{BAD:#} the demo expected it to be blocked");
    } else {
        println!("  broken server: {BAD}BLOCKED{BAD:#}");
        if let Some(m) = broken.console() {
            println!("  {BAD}{m}{BAD:#}");
        }
        if let Some(cause) = broken.cause() {
            println!("  {HEAD}cause{HEAD:#} {cause}");
        }
        if let Some(f) = &broken.failure {
            let fx = fix::fix(f, &broken.request);
            println!("  {HEAD}fix{HEAD:#}   {}", fx.summary);
            for (n, v) in &fx.headers {
                println!("          {CORS}{n}: {v}{CORS:#}");
            }
        }
        if let Some(b) = broken.lna_blocked() {
            println!(
                "  {HEAD}fix{HEAD:#}   no header: the server already answers correctly and is \
                never asked."
            );
            for f in b.fixes(&r.origin.to_string()).iter().take(2) {
                println!("          - {f}");
            }
            println!("  fixed:        the same request once the user allows local network access:");
            print_fixed(fixed);
            if !ok {
                println!("  {BAD}this case did not behave as expected{BAD:#}");
            }
            println!();
            return;
        }
    }
    let policy = match cases::policy_for(c, &r.origin.to_string()) {
        Ok(p) => fix::policy_toml(&p),
        Err(e) => e.to_string(),
    };
    println!(
        "  {HEAD}policy that fixes it{HEAD:#} (corsair.toml, enforced by `corsair serve` or \
        corsair-tower):"
    );
    for line in policy.lines() {
        println!("          {CORS}{line}{CORS:#}");
    }
    print_fixed(fixed);
    if !ok {
        println!("  {BAD}this case did not behave as expected{BAD:#}");
    }
    println!();
}

fn print_fixed(fixed: &Outcome) {
    let exchanges = fixed.exchanges.len();
    if fixed.allowed {
        println!(
            "  fixed server:  {GOOD}ALLOWED{GOOD:#} {DIM}({} {}, {exchanges} exchange{}){DIM:#}",
            fixed.request.method,
            fixed.request.url,
            if exchanges == 1 { "" } else { "s" }
        );
    } else {
        println!(
            "  fixed server:  {BAD}BLOCKED{BAD:#} {}",
            fixed.console().unwrap_or_default()
        );
    }
}
