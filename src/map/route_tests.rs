//! Unit tests of routing and the `--mapping` TOML format.

use super::*;
use serde_json::json;

fn route_of(routes: &Routes, v: Value) -> Route {
    routes.route(v.as_object().expect("object"))
}

fn track(name: &str) -> Value {
    json!({"type": "track", "event": name})
}

#[test]
fn default_table() {
    let r = Routes::default();
    for (ty, action) in [
        ("identify", Action::CreateUpdatePerson),
        ("page", Action::TrackPageView),
        ("screen", Action::TrackScreenView),
        ("group", Action::CreateUpdateObject),
        ("alias", Action::MergePeople),
    ] {
        assert_eq!(route_of(&r, json!({"type": ty})), Route::To(action));
    }
    for action in Action::ALL {
        for name in action.default_triggers() {
            assert_eq!(route_of(&r, track(name)), Route::To(action), "{name}");
        }
    }
    assert_eq!(
        route_of(&r, track("Order Completed")),
        Route::To(Action::TrackEvent)
    );
    assert_eq!(
        route_of(&r, track("user deleted")),
        Route::To(Action::TrackEvent)
    );
}

#[test]
fn routing_failures_have_no_action() {
    let r = Routes::default();
    for v in [
        json!({"type": "track"}),
        json!({"type": "track", "event": ""}),
        json!({"type": "track", "event": {"a": 1}}),
        json!({"type": "Identify"}),
        json!({"type": 5}),
        json!({}),
    ] {
        match route_of(&r, v.clone()) {
            Route::Invalid(i) => {
                assert_eq!(i.action, None, "{v}");
                assert!(!i.message.is_empty());
            }
            other => panic!("{v}: {other:?}"),
        }
    }
}

#[test]
fn replace_add_and_switch_off() {
    let r = Routes::from_toml_str(
        r#"
[actions.delete-person]
triggers = ["Person Removed", "User Deleted v2"]

[actions.create-update-device]
add_triggers = ["device_token_registered"]

[actions.merge-people]
enabled = false
"#,
    )
    .expect("valid mapping")
    .with_source("m.toml");
    assert_eq!(
        route_of(&r, track("Person Removed")),
        Route::To(Action::DeletePerson)
    );
    assert_eq!(
        route_of(&r, track("User Deleted")),
        Route::To(Action::TrackEvent)
    );
    assert_eq!(
        route_of(&r, track("device_token_registered")),
        Route::To(Action::CreateUpdateDevice)
    );
    assert_eq!(
        route_of(&r, track("Application Installed")),
        Route::To(Action::CreateUpdateDevice)
    );
    match route_of(&r, json!({"type": "alias"})) {
        Route::Off { action, reason } => {
            assert_eq!(action, Action::MergePeople);
            assert!(
                reason.contains("merge-people") && reason.contains("m.toml"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!r.enabled(Action::MergePeople));
    assert_eq!(
        r.triggers(Action::DeletePerson),
        ["Person Removed", "User Deleted v2"]
    );
}

#[test]
fn switched_off_event_action_keeps_its_names() {
    let r = Routes::from_toml_str("[actions.delete-person]\nenabled = false\n").unwrap();
    assert!(matches!(
        route_of(&r, track("User Deleted")),
        Route::Off {
            action: Action::DeletePerson,
            ..
        }
    ));
}

#[test]
fn triggers_and_add_triggers_combine() {
    let r = Routes::from_toml_str(
        "[actions.delete-person]\nadd_triggers = [\"B\"]\ntriggers = [\"A\"]\n",
    )
    .unwrap();
    assert_eq!(r.triggers(Action::DeletePerson), ["A", "B"]);
}

#[test]
fn errors_are_clear() {
    for (text, needle) in [
        (
            "[actions.delete-people]\nenabled = false",
            "unknown action `delete-people`",
        ),
        (
            "[actions.delete-person]\nenable = false",
            "unknown key `enable`",
        ),
        (
            "[action.delete-person]\nenabled = false",
            "unknown top-level key `action`",
        ),
        ("[actions.delete-person]\nenabled = \"no\"", "true or false"),
        (
            "[actions.delete-person]\ntriggers = \"User Deleted\"",
            "must be a list",
        ),
        ("[actions.delete-person]\ntriggers = []", "enabled = false"),
        ("[actions.delete-person]\ntriggers = [\" \"]", "blank"),
        (
            "[actions.delete-person]\ntriggers = [1]",
            "must be a string",
        ),
        (
            "[actions.create-update-person]\ntriggers = [\"X\"]",
            "routed by the record's type",
        ),
        (
            "[actions.track-event]\nadd_triggers = [\"X\"]",
            "every track event",
        ),
        (
            "[actions.suppress-person]\nadd_triggers = [\"User Deleted\"]",
            "claimed by both delete-person and suppress-person",
        ),
        ("[actions.delete-person\n", "not valid TOML"),
        ("actions = 3", "must be a table"),
    ] {
        let err = Routes::from_toml_str(text).expect_err(text);
        assert!(err.contains(needle), "{text:?}: {err}");
    }
}

#[test]
fn moving_a_name_between_actions_is_fine() {
    let r = Routes::from_toml_str(
        "[actions.delete-person]\ntriggers = [\"Gone\"]\n[actions.suppress-person]\nadd_triggers = [\"User Deleted\"]\n",
    )
    .unwrap();
    assert_eq!(
        route_of(&r, track("User Deleted")),
        Route::To(Action::SuppressPerson)
    );
}

#[test]
fn empty_file_is_the_default() {
    let r = Routes::from_toml_str("").unwrap();
    assert_eq!(
        route_of(&r, track("User Deleted")),
        Route::To(Action::DeletePerson)
    );
}
