//! The coordinator's `GET /v1/status` document as the `monitor` dashboard
//! reads it: the very type the server serialises
//! ([`crate::service::core::views::Status`]), so a field the server renames
//! or adds is a compile error here, not a silently empty pane.

pub use crate::service::api::{Heartbeat, WorkerStatusView};
pub use crate::service::core::views::{
    LastMinute, Status as StatusDoc, StatusCounts, StatusTotals, StatusWorkers, WorkerLoadView,
};

/// Parses a document; the error is serde's, naming line and column.
pub fn parse(text: &str) -> Result<StatusDoc, serde_json::Error> {
    serde_json::from_str(text)
}

/// A worker's status as the dashboard's phases name it.
pub(crate) fn status_name(status: WorkerStatusView) -> &'static str {
    match status {
        WorkerStatusView::Active => "active",
        WorkerStatusView::Draining => "draining",
        WorkerStatusView::Offline => "offline",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> StatusDoc {
        StatusDoc {
            scheduler: "least_loaded".into(),
            uptime_s: 12.5,
            now: 40.0,
            tests: StatusCounts {
                submitted: 9,
                pending: 2,
                assigned: 1,
                running: 2,
                completed: 3,
                failed: 1,
                rejected: 0,
                cancelled: 0,
                timed_out: 0,
            },
            workers: StatusWorkers {
                active: 1,
                draining: 0,
                offline: 1,
                live: vec![WorkerLoadView {
                    worker_id: 3,
                    name: Some("gpu-1".into()),
                    status: WorkerStatusView::Active,
                    load: Heartbeat {
                        cpu: 40.0,
                        memory: 70.0,
                        gpu: 0.0,
                        leases: None,
                    },
                    effective_load: 0.55,
                    tests: 2,
                }],
            },
            pending_by_priority: [1, 0, 1, 0, 0],
            last_minute: LastMinute {
                assigned_per_s: 0.5,
                completed_per_s: 0.25,
                latency_avg_s: 1.5,
                latency_p95_s: 3.0,
                latency_max_s: 4.0,
            },
            totals: StatusTotals {
                assigned: 4,
                lost: 0,
                worker_timeouts: 0,
            },
        }
    }

    /// What the server writes, the dashboard reads back whole.
    #[test]
    fn a_serialised_document_parses_back_to_itself() {
        let text = serde_json::to_string(&doc()).unwrap();
        assert_eq!(parse(&text).unwrap(), doc());
    }

    #[test]
    fn a_document_of_another_shape_is_refused_with_its_position() {
        let err = parse(r#"{"scheduler": "x", "uptime_s": "soon"}"#).unwrap_err();
        assert!(err.to_string().contains("line 1 column"), "{err}");
    }

    #[test]
    fn statuses_read_as_phase_names() {
        assert_eq!(status_name(WorkerStatusView::Draining), "draining");
        assert_eq!(status_name(WorkerStatusView::Offline), "offline");
    }
}
