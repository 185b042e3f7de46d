//! Root causes: a finding whose accepted origins another class's flawed check explains is
//! folded into that root cause, whose fix closes them all.

#[allow(unused_imports)]
use crate::*;

/// Classes that may be a root cause, most general first.
const ROOTS: [Class; 5] = [
    Class::ReflectOrigin,
    Class::SubstringBypass,
    Class::PrefixBypass,
    Class::SuffixBypass,
    Class::AnySubdomain,
];

/// Every origin a finding's probes got allowed.
pub(crate) fn accepted(f: &Finding) -> impl Iterator<Item = &str> {
    std::iter::once(f.probe.origin.as_str()).chain(f.also_allowed.iter().map(String::as_str))
}

/// Whether the flawed check `root` shows (with the origins it accepted) also accepts an origin
/// whose host stands to the trusted host as `r` says.
fn explains(root: &Finding, relation: &dyn Fn(&str) -> Relation, r: Relation) -> bool {
    match root.class {
        Class::ReflectOrigin => true,
        Class::SubstringBypass => {
            // Which direction(s) the accepted origins showed.
            let shown = |test: fn(Relation) -> bool| accepted(root).map(relation).any(test);
            let contains_host = shown(|a| a.contains_host && !a.is_host);
            let contains_site = shown(|a| a.contains_site && !a.contains_host);
            let within = shown(|a| a.part_of_host && !a.is_host);
            (contains_host && r.contains_host)
                || (contains_site && r.contains_site)
                || (within && r.part_of_host)
        }
        Class::PrefixBypass => r.starts_with_host,
        Class::SuffixBypass => r.ends_with_site,
        Class::AnySubdomain => r.within_site,
        _ => false,
    }
}

/// Loose origin comparisons: one fix (exact comparison, or patterns anchored on label
/// boundaries) closes them all, so the most general one found stands for the others.
const LOOSE: [Class; 5] = [
    Class::SubstringBypass,
    Class::PrefixBypass,
    Class::SuffixBypass,
    Class::UnescapedDot,
    Class::SpecialCharBypass,
];

/// Folds each finding whose accepted origins a root cause's flawed check explains into that
/// root cause: its origins join `also_allowed`, its class `implied`, and the root takes the
/// higher severity. Then the loose comparisons left fold into the most general of them.
pub(crate) fn fold(relation: &dyn Fn(&str) -> Relation, found: &mut Vec<Finding>) {
    for root_class in ROOTS {
        fold_into(found, root_class, |f, root| {
            f.class.attacker_sends_origin()
                && !matches!(
                    f.class,
                    Class::WildcardCredentials | Class::WildcardSensitive | Class::WildcardPublic
                )
                && accepted(f).all(|o| explains(root, relation, relation(o)))
        });
    }
    if let Some(general) = LOOSE
        .into_iter()
        .find(|c| found.iter().any(|f| f.class == *c))
    {
        fold_into(found, general, |f, _| LOOSE.contains(&f.class));
    }
}

/// Folds into the finding of class `root_class` (if any) every other finding `folds` says it
/// covers.
fn fold_into(
    found: &mut Vec<Finding>,
    root_class: Class,
    folds: impl Fn(&Finding, &Finding) -> bool,
) {
    let Some(root) = found.iter().find(|f| f.class == root_class).cloned() else {
        return;
    };
    let mut origins = Vec::new();
    let mut implied = Vec::new();
    // The most severe folded finding, whose evidence the root then shows.
    let mut worst: Option<Finding> = None;
    found.retain(|f| {
        if f.class != root_class && folds(f, &root) {
            origins.extend(accepted(f).map(str::to_string));
            implied.push(f.class);
            implied.extend(f.implied.iter().copied());
            if f.severity > worst.as_ref().map_or(root.severity, |w| w.severity) {
                worst = Some(f.clone());
            }
            false
        } else {
            true
        }
    });
    if let Some(g) = found.iter_mut().find(|f| f.class == root_class) {
        if let Some(w) = worst {
            // Shown with the probe that makes it worst: its severity, detail and evidence.
            origins.retain(|o| *o != w.probe.origin);
            origins.push(std::mem::replace(&mut g.probe, w.probe).origin);
            g.severity = w.severity;
            g.detail = w.detail;
            g.engines = w.engines;
        }
        g.also_allowed.extend(origins);
        g.implied.extend(implied);
        g.implied.sort();
        g.implied.dedup();
    }
}
