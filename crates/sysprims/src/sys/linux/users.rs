//! User names for UIDs, from the system's user database (`getpwuid_r`, through NSS).

/// The name of the user with this UID, if the user database has one.
pub(crate) fn user_name(uid: u32) -> Option<String> {
    uzers::get_user_by_uid(uid).map(|user| user.name().to_string_lossy().into_owned())
}

/// A per-call cache: a listing has thousands of processes but a handful of users, and each
/// `getpwuid_r` may read `/etc/passwd` or ask a directory service.
#[derive(Default)]
pub(crate) struct UserCache {
    entries: Vec<(u32, Option<String>)>,
}

impl UserCache {
    pub(crate) fn name(&mut self, uid: u32) -> Option<String> {
        if let Some((_, name)) = self.entries.iter().find(|(u, _)| *u == uid) {
            return name.clone();
        }
        let name = user_name(uid);
        self.entries.push((uid, name.clone()));
        name
    }
}

/// The UID for a user name, if the user database has one.
pub(crate) fn uid_for_name(name: &str) -> Option<u32> {
    uzers::get_user_by_name(name).map(|user| user.uid())
}
