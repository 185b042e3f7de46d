//! Unit tests of lna.

use super::*;

#[test]
fn addresses_fall_in_chromiums_spaces() {
    let space = |s: &str| AddressSpace::of_ip(s.parse().unwrap());
    for (ip, want) in [
        ("127.0.0.1", AddressSpace::Loopback),
        ("127.255.0.9", AddressSpace::Loopback),
        ("::1", AddressSpace::Loopback),
        ("::ffff:127.0.0.1", AddressSpace::Loopback),
        ("10.1.2.3", AddressSpace::Local),
        ("172.16.0.1", AddressSpace::Local),
        ("172.31.255.255", AddressSpace::Local),
        ("192.168.1.10", AddressSpace::Local),
        ("169.254.169.254", AddressSpace::Local),
        ("100.92.215.42", AddressSpace::Local),
        ("::ffff:192.168.0.1", AddressSpace::Local),
        ("fd12:3456::1", AddressSpace::Local),
        ("fe80::1", AddressSpace::Local),
        ("172.32.0.1", AddressSpace::Public),
        ("100.128.0.1", AddressSpace::Public),
        ("8.8.8.8", AddressSpace::Public),
        ("2001:4860:4860::8888", AddressSpace::Public),
    ] {
        assert_eq!(space(ip), want, "{ip}");
    }
    assert!(
        AddressSpace::Loopback < AddressSpace::Local && AddressSpace::Local < AddressSpace::Public
    );
}

fn ctx(page: AddressSpace, secure: bool, p: Permission, tas: Option<AddressSpace>) -> Context {
    Context {
        page_space: page,
        secure_context: secure,
        permissions: Permissions::both(p),
        target_address_space: tas,
    }
}

#[test]
fn the_decision_follows_chromium_156s_order() {
    use AddressSpace::*;
    use Permission::*;
    // Public to more private: the permission decides, in a secure context.
    assert_eq!(check(&ctx(Public, true, Granted, None), Loopback), Ok(true));
    assert_eq!(
        check(&ctx(Public, true, Prompt, None), Local),
        Err(Blocked::PermissionDenied {
            space: Local,
            undecided: true
        })
    );
    assert_eq!(
        check(&ctx(Public, true, Denied, None), Loopback),
        Err(Blocked::PermissionDenied {
            space: Loopback,
            undecided: false
        })
    );
    // Not a secure context: refused whatever the permission.
    assert_eq!(
        check(&ctx(Public, false, Granted, None), Local),
        Err(Blocked::InsecureContext { space: Local })
    );
    // No more private: no check. A local page reaches loopback unasked in Chromium 156.
    for (page, target) in [
        (Public, Public),
        (Local, Local),
        (Local, Loopback),
        (Loopback, Public),
        (Local, Public),
    ] {
        assert_eq!(
            check(&ctx(page, false, Denied, None), target),
            Ok(false),
            "{page:?} {target:?}"
        );
    }
    // targetAddressSpace is checked first, for every page.
    assert_eq!(
        check(&ctx(Loopback, true, Granted, Some(Local)), Public),
        Err(Blocked::TargetSpaceMismatch {
            declared: Local,
            actual: Public
        })
    );
    assert_eq!(
        check(&ctx(Public, false, Prompt, Some(Local)), Loopback),
        Err(Blocked::TargetSpaceMismatch {
            declared: Local,
            actual: Loopback
        })
    );
    assert_eq!(
        check(&ctx(Public, true, Granted, Some(Local)), Local),
        Ok(true)
    );
    // Per-space permissions.
    let mut c = ctx(Public, true, Denied, None);
    c.permissions.loopback = Granted;
    assert_eq!(check(&c, Loopback), Ok(true));
    assert!(check(&c, Local).is_err());
}

#[test]
fn page_spaces_come_from_parsed_hosts() {
    let of = |o: &str| AddressSpace::of_origin(&crate::Origin::parse_lenient(o).unwrap());
    assert_eq!(of("http://127.0.0.1:3000"), AddressSpace::Loopback);
    assert_eq!(of("http://localhost:3000"), AddressSpace::Loopback);
    assert_eq!(of("http://app.localhost"), AddressSpace::Loopback);
    assert_eq!(of("http://192.168.1.4"), AddressSpace::Local);
    assert_eq!(of("http://[::1]:8080"), AddressSpace::Loopback);
    assert_eq!(of("https://app.example.com"), AddressSpace::Public);
    // A name that starts like an address is a name.
    assert_eq!(of("http://127.attacker.example"), AddressSpace::Public);
    assert_eq!("private".parse::<AddressSpace>(), Err(SpaceError::OldName));
    assert!(SpaceError::OldName
        .to_string()
        .contains("use local for a LAN address"));
    assert_eq!(
        "lan".parse::<AddressSpace>().unwrap_err().to_string(),
        "unknown address space 'lan': use public, local or loopback"
    );
}

/// Firefox's rules (observed in ESR 153): any page may ask, `targetAddressSpace` is
/// ignored, and an undecided permission holds the request rather than failing it.
#[test]
fn firefox_asks_from_any_page_and_ignores_the_declared_space() {
    let rules = crate::Browser::Firefox.local_network_access().unwrap();
    let ctx = |secure, tas, p| Context {
        page_space: AddressSpace::Public,
        secure_context: secure,
        permissions: Permissions::both(p),
        target_address_space: tas,
    };
    let loopback = AddressSpace::Loopback;
    assert_eq!(
        check_with(&ctx(false, None, Permission::Granted), loopback, &rules),
        Ok(true)
    );
    assert_eq!(
        check(&ctx(false, None, Permission::Granted), loopback),
        Err(Blocked::InsecureContext { space: loopback })
    );
    assert_eq!(
        check_with(
            &ctx(true, Some(AddressSpace::Public), Permission::Granted),
            loopback,
            &rules
        ),
        Ok(true)
    );
    assert!(rules.undecided_waits);
    assert!(crate::Browser::Safari.local_network_access().is_none());
}
