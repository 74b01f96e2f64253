//! The Lua scripts that make the lease safe. Each runs atomically in Redis,
//! so "is the lock still mine?" and "then do this" cannot be separated by
//! another client's write.

use std::sync::LazyLock;

use redis::Script;

/// KEYS[1] lock, ARGV[1] owner, ARGV[2] lease ms: take the lease if it is
/// free, or adopt it if it already holds this owner (an earlier attempt with
/// the same owner whose reply was lost, say in a failover, did take it).
/// Returns 1 when the lease is now this owner's.
pub(crate) static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
            return 1
          end
          if redis.call('GET', KEYS[1]) == ARGV[1] then
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return 1
          end
          return 0",
    )
});

/// KEYS[1] lock, ARGV[1] owner, ARGV[2] lease ms: extend the lease if still held.
pub(crate) static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) == ARGV[1] then
            return redis.call('PEXPIRE', KEYS[1], ARGV[2])
          else
            return 0
          end",
    )
});

/// KEYS[1] lock: delete it only if ARGV[1] still owns it.
pub(crate) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) == ARGV[1] then
            return redis.call('DEL', KEYS[1])
          else
            return 0
          end",
    )
});

/// KEYS[1] lock, KEYS[2] tokens; ARGV[1] owner, ARGV[2] data, ARGV[3] TTL ms
/// (0: none). The fenced save: writes only while ARGV[1] owns the lock.
pub(crate) static FENCED_SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) ~= ARGV[1] then
            return 0
          end
          if tonumber(ARGV[3]) > 0 then
            redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
          else
            redis.call('SET', KEYS[2], ARGV[2])
          end
          return 1",
    )
});

/// KEYS[1] lock, KEYS[2] tokens; ARGV[1] owner. The fenced removal: deletes
/// the tokens only while ARGV[1] owns the lock.
pub(crate) static FENCED_REMOVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) ~= ARGV[1] then
            return 0
          end
          redis.call('DEL', KEYS[2])
          return 1",
    )
});

/// KEYS[1] lock, KEYS[2] tokens, KEYS[3] where to move them; ARGV[1] owner.
/// The fenced setting aside: renames the unreadable tokens, keeping them,
/// only while ARGV[1] owns the lock.
pub(crate) static FENCED_SET_ASIDE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) ~= ARGV[1] then
            return 0
          end
          if redis.call('EXISTS', KEYS[2]) == 1 then
            redis.call('RENAME', KEYS[2], KEYS[3])
          end
          return 1",
    )
});
