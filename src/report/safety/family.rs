//! Action families: the seven groups the histogram and the warnings count records in.

use crate::track::Action;

/// A group of actions that mean the same kind of thing to a person looking at a backfill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Family {
    /// `create-update-person`, `merge-people`: people and their attributes.
    Person,
    /// `track-event`, `report-content-event`: events on a person's timeline.
    Event,
    /// `track-page-view`, `track-screen-view`.
    PageScreen,
    /// `create-update-object`: objects (groups) and relationships to them.
    Object,
    /// `create-update-device`, `delete-device`.
    Device,
    /// `delete-person`, `delete-object`, `delete-relationship`, `suppress-person`,
    /// `unsuppress-person`: removals and suppressions.
    DeleteSuppress,
    /// `report-delivery-event`: delivery metrics (`/api/v1/metrics`).
    Metrics,
}

/// Every family, in display order.
pub(super) const FAMILIES: [Family; 7] = [
    Family::Person,
    Family::Event,
    Family::PageScreen,
    Family::Object,
    Family::Device,
    Family::DeleteSuppress,
    Family::Metrics,
];

impl Family {
    /// The family of an action.
    pub(crate) fn of(action: Action) -> Family {
        match action {
            Action::CreateUpdatePerson | Action::MergePeople => Family::Person,
            Action::TrackEvent | Action::ReportContentEvent => Family::Event,
            Action::TrackPageView | Action::TrackScreenView => Family::PageScreen,
            Action::CreateUpdateObject => Family::Object,
            Action::CreateUpdateDevice | Action::DeleteDevice => Family::Device,
            Action::DeletePerson
            | Action::DeleteObject
            | Action::DeleteRelationship
            | Action::SuppressPerson
            | Action::UnsuppressPerson => Family::DeleteSuppress,
            Action::ReportDeliveryEvent => Family::Metrics,
        }
    }

    /// The name in output and JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Family::Person => "person",
            Family::Event => "event",
            Family::PageScreen => "page-screen",
            Family::Object => "object",
            Family::Device => "device",
            Family::DeleteSuppress => "delete-suppress",
            Family::Metrics => "metrics",
        }
    }

    /// The character of this family in the histogram's stacked bars.
    pub(crate) fn symbol(self) -> char {
        match self {
            Family::Person => 'P',
            Family::Event => 'E',
            Family::PageScreen => 'V',
            Family::Object => 'O',
            Family::Device => 'D',
            Family::DeleteSuppress => 'X',
            Family::Metrics => 'M',
        }
    }

    /// Position in [`FAMILIES`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Whether an action's operation is a person event that Customer.io may use to trigger an
/// event-triggered campaign when its timestamp is within the last 72 hours (track-api.md §6.3):
/// events, page views, screen views and content events. Identify, devices, objects, deletions,
/// suppressions and delivery metrics are not events on the person's timeline; their own timestamp
/// does not decide whether a campaign fires (attribute changes can trigger segment campaigns
/// whatever their age, which no count here can rule out).
pub(crate) fn can_trigger_campaign(action: Action) -> bool {
    matches!(
        action,
        Action::TrackEvent
            | Action::TrackPageView
            | Action::TrackScreenView
            | Action::ReportContentEvent
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_family_and_every_family_an_action() {
        for f in FAMILIES {
            assert!(Action::ALL.iter().any(|a| Family::of(*a) == f), "{f:?}");
            assert_eq!(FAMILIES[f.index()], f);
        }
    }

    #[test]
    fn symbols_are_distinct() {
        let mut s: Vec<char> = FAMILIES.iter().map(|f| f.symbol()).collect();
        s.sort_unstable();
        s.dedup();
        assert_eq!(s.len(), FAMILIES.len());
    }
}
