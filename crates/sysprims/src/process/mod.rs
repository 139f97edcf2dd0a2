//! Process inspection: who a PID is ([`get_process`]), whether it is still who it was
//! ([`verify_identity`]), all processes ([`snapshot`]) and a process's subtree
//! ([`descendants`]).

mod descendants;
pub(crate) mod identity;
mod info;
pub(crate) mod snapshot;

pub use descendants::{PROCESS_TREE_SCHEMA_ID, ProcessTree, TreeNode, descendants};
pub use identity::{IdentityCheck, ProcessIdentity, ReuseReason, verify_identity};
pub use info::{ProcessInfo, ProcessOptions, ProcessState, get_process, get_process_with};
pub use snapshot::{
    CPU_SAMPLE_MS_MAX, PROCESS_SNAPSHOT_SCHEMA_ID, ProcessFilter, ProcessSnapshot, SnapshotOptions,
    SortKey, snapshot,
};
