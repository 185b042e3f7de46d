//! `corsair origin`: the origin tuple of a URL, and whether two URLs are same-origin.

use crate::cli::{Format, OriginArgs};
use crate::style::{BAD, DIM, GOOD, WARN};
use crate::{EXIT_BLOCKED, EXIT_ERROR, EXIT_OK};
use anstream::{eprintln, println};
use corsair_core::origin::{Origin, Spelling};
use serde_json::json;

pub fn run(args: OriginArgs) -> u8 {
    let parse = |s: &str| Origin::spelling(s).map_err(|e| e.to_string());
    let first = match parse(&args.url) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{BAD}error:{BAD:#} {e}");
            return EXIT_ERROR;
        }
    };
    let second = match args.other.as_deref().map(parse).transpose() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{BAD}error:{BAD:#} {e}");
            return EXIT_ERROR;
        }
    };
    let diff = second.as_ref().map(|(o, _)| first.0.differences(o));
    let same = second.as_ref().map(|(o, _)| first.0.same_origin(o));
    match args.format {
        Format::Json => {
            let one = |input: &str, (o, sp): &(Origin, Vec<Spelling>)| json!({"input": input, "origin": o.to_string(), "opaque": o.is_opaque(), "tuple": o.tuple(), "spelling": sp});
            let mut v = json!({"first": one(&args.url, &first)});
            if let (Some(other), Some(s)) = (&second, &args.other) {
                v["second"] = one(s, other);
                v["same_origin"] = json!(same);
                v["differs"] = json!(diff);
            }
            println!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
        }
        Format::Text => {
            print_one(&args.url, &first);
            if let (Some(other), Some(s)) = (&second, &args.other) {
                println!();
                print_one(s, other);
                println!();
                let d = diff.clone().unwrap_or_default();
                if same == Some(true) {
                    println!("{GOOD}same-origin{GOOD:#}: CORS does not apply between them.");
                } else if first.0.is_opaque() || other.0.is_opaque() {
                    println!(
                        "{BAD}cross-origin{BAD:#}: an opaque origin (null) is never \
                        same-origin with anything."
                    );
                } else {
                    let (a, b) = (first.0.tuple().unwrap(), other.0.tuple().unwrap());
                    let parts: Vec<String> = d
                        .iter()
                        .map(|p| match p {
                            corsair_core::origin::Part::Scheme => {
                                format!("scheme ({} vs {})", a.scheme, b.scheme)
                            }
                            corsair_core::origin::Part::Host => {
                                format!("host ({} vs {})", a.host, b.host)
                            }
                            corsair_core::origin::Part::Port => format!(
                                "port ({} vs {})",
                                a.effective_port.map_or("none".into(), |p| p.to_string()),
                                b.effective_port.map_or("none".into(), |p| p.to_string())
                            ),
                        })
                        .collect();
                    println!(
                        "{BAD}cross-origin{BAD:#}: the {} differ{}; a request between them is \
                        a CORS request.",
                        parts.join(", "),
                        if parts.len() == 1 { "s" } else { "" }
                    );
                }
            }
        }
    }
    match same {
        Some(false) => EXIT_BLOCKED,
        _ => EXIT_OK,
    }
}

fn print_one(input: &str, (origin, spelling): &(Origin, Vec<Spelling>)) {
    println!("{}  {DIM}({input}){DIM:#}", origin);
    match origin.tuple() {
        Some(t) => {
            println!("  scheme  {}", t.scheme);
            println!("  host    {}", t.host);
            match (t.port, t.effective_port) {
                (Some(p), _) => println!("  port    {p}"),
                (None, Some(p)) => println!("  port    {p} {DIM}(default, not written){DIM:#}"),
                (None, None) => println!("  port    {DIM}none{DIM:#}"),
            }
        }
        None => println!("  opaque origin: serialises as null"),
    }
    for s in spelling {
        println!("  {WARN}note{WARN:#}    as written it {}", s.describe());
    }
}
