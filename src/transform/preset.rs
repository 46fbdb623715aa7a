//! The transforms shipped in the binary (`--preset NAME`), each a jq program documented in its
//! own header comment: field table and what it makes of each kind of record.

/// One preset: its name, its jq text, and the same program in Rust (`transform::native`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Preset {
    pub name: &'static str,
    pub text: &'static str,
    pub(crate) native: super::native::Native,
}

/// Every preset, by name.
pub(crate) const PRESETS: &[Preset] = &[
    Preset {
        name: "mixpanel",
        text: include_str!("presets/mixpanel.jq"),
        native: super::native::mixpanel,
    },
    Preset {
        name: "amplitude",
        text: include_str!("presets/amplitude.jq"),
        native: super::native::amplitude,
    },
];

/// The preset called `name`.
pub(crate) fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The names of the presets (for `--preset`'s possible values).
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    PRESETS.iter().map(|p| p.name)
}
