//! `deploy/`: the Kubernetes manifests and the container file hang together, and the
//! ConfigMap's corsair.toml is a valid file that serves: linted by `corsair policy lint`, then
//! started (on loopback) with its readiness and liveness endpoints answering as the probes
//! expect.

use crate::support::{http, workspace_root, Gateway};
use serde_json::Value;
use std::process::Command;

/// Every document of the manifests, as JSON (PyYAML from the test venv reads them).
fn manifests() -> Vec<Value> {
    let python = workspace_root().join(".test-deps/venv/bin/python");
    let dir = workspace_root().join("deploy/kubernetes");
    let files: Vec<_> = [
        "configmap.yaml",
        "deployment.yaml",
        "service.yaml",
        "pdb.yaml",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    let out = Command::new(&python)
        .args([
            "-c",
            "import yaml, json, sys; print(json.dumps([d for f in sys.argv[1:] for d in \
                yaml.safe_load_all(open(f))]))",
        ])
        .args(&files)
        .output()
        .expect("the test venv's python (bash scripts/test.sh makes it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn kind<'a>(docs: &'a [Value], k: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == k)
        .unwrap_or_else(|| panic!("no {k}"))
}

#[test]
fn the_manifests_hang_together_and_the_config_serves() {
    let docs = manifests();
    let cm = kind(&docs, "ConfigMap");
    let dep = kind(&docs, "Deployment");
    let svc = kind(&docs, "Service");
    let pdb = kind(&docs, "PodDisruptionBudget");
    let toml_text = cm["data"]["corsair.toml"].as_str().unwrap();
    let config: toml::Table = toml_text.parse().unwrap();
    let port_of = |key: &str| -> u64 {
        config[key]
            .as_str()
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let pod = &dep["spec"]["template"];
    let c = &pod["spec"]["containers"][0];
    let ports: Vec<(&str, u64)> = c["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["containerPort"].as_u64().unwrap(),
            )
        })
        .collect();
    let named = |n: &str| ports.iter().find(|(name, _)| *name == n).unwrap().1;
    assert_eq!(
        named("http"),
        port_of("listen"),
        "the http port is the config's listen port"
    );
    assert_eq!(
        named("admin"),
        port_of("admin"),
        "the admin port is the config's admin port"
    );
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["readinessProbe"]["httpGet"]["port"], "admin");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["livenessProbe"]["httpGet"]["port"], "admin");
    // The config path is in the ConfigMap's whole-directory mount (a subPath mount would never
    // see the kubelet's updates).
    let mount = &c["volumeMounts"][0];
    assert!(mount.get("subPath").is_none(), "{mount}");
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let config_path = args[args.iter().position(|a| *a == "--config").unwrap() + 1];
    assert_eq!(
        config_path,
        format!("{}/corsair.toml", mount["mountPath"].as_str().unwrap())
    );
    assert_eq!(
        pod["spec"]["volumes"][0]["configMap"]["name"],
        cm["metadata"]["name"]
    );
    // Drain: preStop, then shutdown_grace, within the grace period.
    let grace = pod["spec"]["terminationGracePeriodSeconds"]
        .as_f64()
        .unwrap();
    let pre_stop = c["lifecycle"]["preStop"]["sleep"]["seconds"]
        .as_f64()
        .unwrap();
    let shutdown = config["gateway"]["shutdown_grace"].as_float().unwrap();
    assert!(
        pre_stop + shutdown < grace,
        "{pre_stop} + {shutdown} >= {grace}"
    );
    // One set of labels selects everything.
    let labels = &pod["metadata"]["labels"];
    assert_eq!(&dep["spec"]["selector"]["matchLabels"], labels);
    assert_eq!(&svc["spec"]["selector"], labels);
    assert_eq!(&pdb["spec"]["selector"]["matchLabels"], labels);
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], "http");
    // The container file builds this binary and starts it on the same path.
    let containerfile =
        std::fs::read_to_string(workspace_root().join("deploy/Containerfile")).unwrap();
    assert!(containerfile.contains("--bin corsair"));
    assert!(containerfile.contains(&format!("\"--config\", \"{config_path}\"")));

    // The ConfigMap's file is valid, and serves: lint it, start it on loopback.
    let dir = std::env::temp_dir().join(format!("corsair-deploy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("corsair.toml");
    std::fs::write(&file, toml_text).unwrap();
    let lint = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["policy", "lint", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );
    let gw = Gateway::start(&file, &["--upstream", "http://127.0.0.1:9"]);
    assert_eq!(http(&gw.admin, "GET", "/readyz", &[]).0, 200);
    assert_eq!(http(&gw.admin, "GET", "/healthz", &[]).0, 200);
    let (st, h, _) = http(
        &gw.addr,
        "OPTIONS",
        "/x",
        &[
            ("Origin", "https://app.example.com"),
            ("Access-Control-Request-Method", "PUT"),
        ],
    );
    assert_eq!(st, 204);
    assert!(h
        .iter()
        .any(|(n, v)| n == "access-control-allow-origin" && v == "https://app.example.com"));
}

/// `corsair gen gateway-api` writes an HTTPRoute the Gateway API's own schema accepts (its
/// HTTPRoute v1 CRD schema, `tests/fixtures/gateway-api/`, checked with the Python `jsonschema`
/// package; the schema's CEL rules, which JSON Schema cannot say, are checked here), for each
/// kind of policy it can write; the ones it cannot write are refused with the reason.
#[test]
fn gen_gateway_api_is_a_valid_httproute() {
    let dir = std::env::temp_dir().join(format!("corsair-gapi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policies = [
        "origins = [\"https://app.example.com\", \"https://*.example.org\"]\nmethods = \
            [\"GET\", \"PUT\", \"PATCH\"]\nrequest_headers = \
            [\"Content-Type\", \"Authorization\"]\nexpose_headers = \
            [\"X-Total-Count\"]\ncredentials = true\nmax_age = 600\n",
        "origins = [\"*\"]\ncredentials = false\n",
        "origins = [\"http://localhost:5173\", \"https://*.example.org:8443\"]\nrequest_headers = \
            [\"*\"]\ncredentials = false\nmax_age = 0\n",
    ];
    let schema = workspace_root().join("tests/fixtures/gateway-api/httproute-v1.schema.json");
    let python = workspace_root().join(".test-deps/venv/bin/python");
    let check = r#"
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
schema.pop("$comment")
doc = yaml.safe_load(open(sys.argv[2]))
assert doc["apiVersion"] == "gateway.networking.k8s.io/v1" and doc["kind"] == "HTTPRoute", doc
jsonschema.validate(doc, schema)
for rule in doc["spec"]["rules"]:
    for f in rule.get("filters", []):
        assert (f["type"] == "CORS") == ("cors" in f), f
        c = f.get("cors", {})
        for key in ("allowOrigins", "allowMethods", "allowHeaders"):
            v = c.get(key, [])
            assert not ("*" in v and len(v) > 1), (key, v)
            assert len(set(v)) == len(v), (key, v)
print(json.dumps(doc))
"#;
    for (i, policy) in policies.iter().enumerate() {
        let cfg = dir.join(format!("p{i}.toml"));
        std::fs::write(
            &cfg,
            format!("upstream = \"http://api.default.svc:8000\"\n[policy]\n{policy}"),
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
            .args(["gen", "gateway-api", "--config", cfg.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{policy}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let file = dir.join(format!("p{i}.yaml"));
        std::fs::write(&file, &out.stdout).unwrap();
        let v = Command::new(&python)
            .args(["-c", check])
            .arg(&schema)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            v.status.success(),
            "{policy}: the schema refuses\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&v.stderr)
        );
        let doc: Value = serde_json::from_slice(&v.stdout).unwrap();
        let cors = &doc["spec"]["rules"][0]["filters"][0]["cors"];
        if i == 0 {
            assert_eq!(
                cors["allowOrigins"],
                serde_json::json!(["https://app.example.com", "https://*.example.org"])
            );
            assert_eq!(cors["allowCredentials"], true);
            assert_eq!(doc["spec"]["rules"][0]["backendRefs"][0]["name"], "api");
        }
    }
    // What it cannot say is refused, with the reason.
    for (policy, why) in [
        ("origins = [\"http://localhost:*\"]\n", "port wildcard"),
        (
            "origins = [\"https://app.example.com\"]\nmethods = [\"PURGE\"]\n",
            "PURGE",
        ),
    ] {
        let cfg = dir.join("refused.toml");
        std::fs::write(
            &cfg,
            format!("upstream = \"http://api:8000\"\n[policy]\n{policy}"),
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
            .args(["gen", "gateway-api", "--config", cfg.to_str().unwrap()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(why),
            "{policy}: {err}"
        );
    }
}

/// `corsair gen ingress-nginx` writes an Ingress (networking.k8s.io/v1) with every CORS
/// annotation set; its values against ingress-nginx's own validators are checked in
/// `corsair_core::gen::ingress_nginx`.
#[test]
fn gen_ingress_nginx_is_an_ingress_with_every_cors_annotation() {
    let dir = std::env::temp_dir().join(format!("corsair-ingress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("p.toml");
    std::fs::write(
        &cfg,
        "upstream = \"http://api.default.svc:8000\"\n[policy]\norigins = \
            [\"https://app.example.com\"]\ncredentials = true\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["gen", "ingress-nginx", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = dir.join("ingress.yaml");
    std::fs::write(&file, &out.stdout).unwrap();
    let python = workspace_root().join(".test-deps/venv/bin/python");
    let v = Command::new(&python)
        .args([
            "-c",
            "import yaml, json, sys; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    let doc: Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(doc["apiVersion"], "networking.k8s.io/v1");
    assert_eq!(doc["kind"], "Ingress");
    let a = &doc["metadata"]["annotations"];
    for key in [
        "enable-cors",
        "cors-allow-origin",
        "cors-allow-methods",
        "cors-allow-headers",
        "cors-allow-credentials",
        "cors-max-age",
    ] {
        assert!(
            a[format!("nginx.ingress.kubernetes.io/{key}")].is_string(),
            "{key} missing: {a}"
        );
    }
    assert_eq!(
        a["nginx.ingress.kubernetes.io/cors-allow-origin"],
        "https://app.example.com"
    );
    let backend = &doc["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"];
    assert_eq!(backend["name"], "api");
    assert_eq!(backend["port"]["number"], 8000);
}
