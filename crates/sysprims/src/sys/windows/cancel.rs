//! The cancellation token's backend: a manual-reset event, which waits include in their
//! `WaitForMultipleObjects` so a trigger wakes them.

use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};

use windows_sys::Win32::Foundation::{HANDLE, WAIT_OBJECT_0};
use windows_sys::Win32::System::Threading::{CreateEventW, SetEvent, WaitForSingleObject};

use crate::error::{Result, Subject};

#[derive(Debug)]
pub(crate) struct CancelFd {
    event: OwnedHandle,
}

impl CancelFd {
    pub(crate) fn new() -> Result<CancelFd> {
        // SAFETY: no pointers but null (default security, unnamed); manual reset, unset.
        let raw = unsafe { CreateEventW(std::ptr::null(), 1, 0, std::ptr::null()) };
        if raw.is_null() {
            return Err(super::last_error("CreateEventW", Subject::None));
        }
        // SAFETY: a handle we just created and own.
        Ok(CancelFd {
            event: unsafe { OwnedHandle::from_raw_handle(raw as _) },
        })
    }

    pub(crate) fn raw(&self) -> HANDLE {
        self.event.as_raw_handle() as HANDLE
    }

    pub(crate) fn trigger(&self) {
        // SAFETY: the event is open.
        unsafe { SetEvent(self.raw()) };
    }

    pub(crate) fn is_triggered(&self) -> bool {
        // SAFETY: the event is open.
        unsafe { WaitForSingleObject(self.raw(), 0) == WAIT_OBJECT_0 }
    }
}

pub(crate) fn triggered(cancel: Option<&CancelFd>) -> bool {
    cancel.is_some_and(CancelFd::is_triggered)
}
