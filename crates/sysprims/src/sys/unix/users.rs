//! User names for UIDs, from the system's user database (`getpwuid_r`: through NSS on Linux,
//! Open Directory on macOS).

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

/// How long [`cached_name`] trusts a name it looked up.
const NAME_TTL: std::time::Duration = std::time::Duration::from_secs(10);

/// The user name of `uid`, from a process-wide cache whose entries are looked up again after
/// [`NAME_TTL`]: `getpwuid_r` (NSS, often a file parse) costs more than reading a process.
pub(crate) fn cached_name(uid: u32) -> Option<String> {
    type Entry = (u32, Option<String>, std::time::Instant);
    static CACHE: std::sync::Mutex<Vec<Entry>> = std::sync::Mutex::new(Vec::new());
    let now = std::time::Instant::now();
    {
        let cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, name, _)) = cache
            .iter()
            .find(|(u, _, at)| *u == uid && now.duration_since(*at) < NAME_TTL)
        {
            return name.clone();
        }
    }
    // Looked up outside the lock: NSS may be slow, and other threads need not wait for it.
    let name = user_name(uid);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.retain(|(u, _, at)| *u != uid && now.duration_since(*at) < NAME_TTL);
    cache.push((uid, name.clone(), now));
    name
}

/// The UID for a user name, if the user database has one.
pub(crate) fn uid_for_name(name: &str) -> Option<u32> {
    uzers::get_user_by_name(name).map(|user| user.uid())
}
