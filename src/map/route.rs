//! Routing (mapping.md §1): which action a record triggers, with the user's `--mapping` file
//! (renamed or added trigger names, actions switched off) applied once into a lookup table.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::Invalid;
use super::fields::{kind, shown};
use crate::track::Action;

/// The trigger table (mapping.md §1) with the user's renames and switches (`--mapping FILE`).
///
/// The mapping file is TOML with one optional `[actions.<cli-name>]` table per action
/// (docs/mapping-file.md):
///
/// ```toml
/// [actions.delete-person]
/// triggers = ["User Deleted", "Person Removed"]   # replaces the default trigger names
///
/// [actions.create-update-device]
/// add_triggers = ["device_token_registered"]      # adds to the default trigger names
///
/// [actions.merge-people]
/// enabled = false                                 # records of this action are skipped
/// ```
///
/// `triggers`/`add_triggers` are allowed only on actions routed by a track event name (not on
/// the `type`-routed ones nor on `track-event`, which takes every other track event). Names are
/// exact and case-sensitive, must be non-blank, and each may trigger only one action: a name
/// claimed by two actions is an error. Unknown action names and keys are errors. A record whose
/// action is switched off is skipped with a reason naming the action and the mapping file.
#[derive(Debug, Clone)]
pub struct Routes {
    /// Track event name → action (only the non-`track-event` ones).
    by_event: HashMap<String, Action>,
    /// Actions switched off, indexed like [`Action::ALL`].
    off: [bool; 15],
    /// Where the table came from, for skip reasons ("the mapping file x.toml").
    source: String,
}

/// Where a record goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// Map with this action.
    To(Action),
    /// The action is switched off: skip with this reason.
    Off { action: Action, reason: String },
    /// Routing failed (no or bad `type`, a track call without an event name).
    Invalid(Invalid),
}

fn index(action: Action) -> usize {
    Action::ALL.iter().position(|a| *a == action).unwrap_or(0)
}

fn is_event_routed(action: Action) -> bool {
    !action.default_triggers().is_empty()
}

impl Default for Routes {
    fn default() -> Self {
        let mut by_event = HashMap::new();
        for action in Action::ALL {
            for name in action.default_triggers() {
                by_event.insert((*name).to_owned(), action);
            }
        }
        Routes {
            by_event,
            off: [false; 15],
            source: "the mapping file".to_owned(),
        }
    }
}

impl Routes {
    /// Parse a `--mapping` TOML document (format above). Errors say what is wrong and where.
    pub(crate) fn from_toml_str(text: &str) -> Result<Routes, String> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| format!("not valid TOML: {}", e.message().trim()))?;
        let mut triggers: Vec<Vec<String>> = Action::ALL
            .iter()
            .map(|a| {
                a.default_triggers()
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect()
            })
            .collect();
        let mut off = [false; 15];
        for (key, value) in &table {
            if key != "actions" {
                return Err(format!(
                    "unknown top-level key `{key}`: the mapping file has only `[actions.<action>]` \
                     tables"
                ));
            }
            let actions = value
                .as_table()
                .ok_or("`actions` must be a table of `[actions.<action>]` tables")?;
            for (name, section) in actions {
                let action = Action::from_name(name).ok_or_else(|| {
                    let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
                    format!(
                        "unknown action `{name}` in [actions.{name}]: use one of {}",
                        names.join(", ")
                    )
                })?;
                let section = section
                    .as_table()
                    .ok_or_else(|| format!("[actions.{name}] must be a table"))?;
                apply_section(action, section, &mut triggers[index(action)], &mut off)?;
            }
        }
        let mut by_event: HashMap<String, Action> = HashMap::new();
        for (i, names) in triggers.iter().enumerate() {
            let action = Action::ALL[i];
            for trigger in names {
                let previous = by_event.insert(trigger.clone(), action);
                if let Some(other) = previous.filter(|other| *other != action) {
                    return Err(format!(
                        "trigger \"{trigger}\" is claimed by both {other} and {action}: a name may \
                         trigger only one action; remove it from one (`triggers = [...]` replaces \
                         an action's default names)"
                    ));
                }
            }
        }
        Ok(Routes {
            by_event,
            off,
            source: "the mapping file".to_owned(),
        })
    }

    /// Name the file these routes came from (used in skip reasons).
    pub(crate) fn with_source(mut self, file: &str) -> Routes {
        self.source = format!("the mapping file {file}");
        self
    }

    /// Whether `action` is switched on.
    #[cfg(test)]
    pub(crate) fn enabled(&self, action: Action) -> bool {
        !self.off[index(action)]
    }

    /// The track event names that trigger `action` (sorted; empty for `type`-routed actions and
    /// `track-event`).
    #[cfg(test)]
    pub(crate) fn triggers(&self, action: Action) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .by_event
            .iter()
            .filter(|(_, a)| **a == action)
            .map(|(n, _)| n.as_str())
            .collect();
        names.sort_unstable();
        names
    }

    /// Route one event (a JSON object).
    pub(crate) fn route(&self, event: &Map<String, Value>) -> Route {
        let action = match event.get("type") {
            Some(Value::String(t)) => match t.as_str() {
                "identify" => Action::CreateUpdatePerson,
                "page" => Action::TrackPageView,
                "screen" => Action::TrackScreenView,
                "group" => Action::CreateUpdateObject,
                "alias" => Action::MergePeople,
                "track" => match event.get("event") {
                    Some(Value::String(name)) if !name.is_empty() => self
                        .by_event
                        .get(name.as_str())
                        .copied()
                        .unwrap_or(Action::TrackEvent),
                    Some(other) if !other.is_null() => {
                        return Route::Invalid(Invalid::new(
                            None,
                            Some("event"),
                            format!(
                                "track event name must be a non-empty string, not {} ({}): set \
                                 \"event\" to the event's name",
                                kind(other),
                                shown(other)
                            ),
                        ));
                    }
                    _ => {
                        return Route::Invalid(Invalid::new(
                            None,
                            Some("event"),
                            "track event has no \"event\" name: set \"event\" to a non-empty string",
                        ));
                    }
                },
                other => {
                    return Route::Invalid(Invalid::new(
                        None,
                        Some("type"),
                        format!(
                            "unknown type \"{other}\": use identify, track, page, screen, group or \
                             alias (lower case)"
                        ),
                    ));
                }
            },
            None | Some(Value::Null) => {
                return Route::Invalid(Invalid::new(
                    None,
                    Some("type"),
                    "record has no \"type\": set it to identify, track, page, screen, group or alias",
                ));
            }
            Some(other) => {
                return Route::Invalid(Invalid::new(
                    None,
                    Some("type"),
                    format!(
                        "type must be a string, not {}: set it to identify, track, page, screen, \
                         group or alias",
                        kind(other)
                    ),
                ));
            }
        };
        if self.off[index(action)] {
            return Route::Off {
                action,
                reason: format!(
                    "action {action} is switched off in {} (enabled = false)",
                    self.source
                ),
            };
        }
        Route::To(action)
    }
}

fn string_list(name: &str, key: &str, value: &toml::Value) -> Result<Vec<String>, String> {
    let items = value.as_array().ok_or_else(|| {
        format!(
            "[actions.{name}] {key} must be a list of event names, e.g. {key} = [\"User Deleted\"]"
        )
    })?;
    items
        .iter()
        .map(|item| match item.as_str() {
            Some(s) if !s.trim().is_empty() => Ok(s.to_owned()),
            Some(_) => Err(format!(
                "[actions.{name}] {key}: an event name must not be blank"
            )),
            None => Err(format!(
                "[actions.{name}] {key}: every event name must be a string"
            )),
        })
        .collect()
}

fn apply_section(
    action: Action,
    section: &toml::Table,
    names: &mut Vec<String>,
    off: &mut [bool; 15],
) -> Result<(), String> {
    let name = action.name();
    let mut replace = None;
    let mut add = Vec::new();
    for (key, value) in section {
        match key.as_str() {
            "enabled" => {
                let on = value
                    .as_bool()
                    .ok_or_else(|| format!("[actions.{name}] enabled must be true or false"))?;
                off[index(action)] = !on;
            }
            "triggers" | "add_triggers" if !is_event_routed(action) => {
                return Err(format!(
                    "[actions.{name}] {key}: {name} is not triggered by track event names ({}); \
                     only `enabled` can be set for it",
                    if action == Action::TrackEvent {
                        "it takes every track event no other action claims"
                    } else {
                        "it is routed by the record's type"
                    }
                ));
            }
            "triggers" => {
                let list = string_list(name, key, value)?;
                if list.is_empty() {
                    return Err(format!(
                        "[actions.{name}] triggers is empty: to switch the action off use \
                         `enabled = false`"
                    ));
                }
                replace = Some(list);
            }
            "add_triggers" => add = string_list(name, key, value)?,
            other => {
                return Err(format!(
                    "[actions.{name}]: unknown key `{other}`: use triggers, add_triggers or enabled"
                ));
            }
        }
    }
    if let Some(list) = replace {
        names.clear();
        names.extend(list);
    }
    for n in add {
        names.push(n);
    }
    names.sort_unstable();
    names.dedup();
    Ok(())
}

#[cfg(test)]
#[path = "route_tests.rs"]
mod tests;
