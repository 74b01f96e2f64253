//! One connection type for both topologies: a single Redis node (with its
//! replicas, if any) or a Redis Cluster.
//!
//! The store's commands and scripts are written once against
//! [`redis::aio::ConnectionLike`]; this enum sends them to a
//! [`ConnectionManager`] (one node, reconnecting after a restart) or to a
//! [`ClusterConnection`] (which follows `MOVED` and `ASK` redirections and
//! refreshes its slot map after a failover). The one command whose route the
//! store must choose itself is `WAIT`: it counts the replicas that have the
//! writes *of this connection to that node*, so it goes to the primary that
//! holds the account's slot, never to every primary.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

/// A connection to a single node or to a cluster; cheap to clone (clones
/// share the underlying multiplexed connections).
#[derive(Clone)]
pub(crate) enum Connection {
    /// One Redis server (standalone, or the primary of a replicated pair).
    Node(ConnectionManager),
    /// A Redis Cluster.
    Cluster(ClusterConnection),
}

impl Connection {
    /// Waits until `replicas` replicas of the primary holding `key` have
    /// every write this connection made there, or `timeout` passes; returns
    /// how many confirmed.
    pub(crate) async fn wait_for_replicas(
        &mut self,
        key: &str,
        replicas: u32,
        timeout: Duration,
    ) -> RedisResult<u32> {
        let mut wait = redis::cmd("WAIT");
        wait.arg(replicas).arg(
            u64::try_from(timeout.as_millis())
                .unwrap_or(u64::MAX)
                .max(1),
        );
        let confirmed: i64 = match self {
            Connection::Node(conn) => wait.query_async(conn).await?,
            Connection::Cluster(conn) => {
                let route = Route::with_key(key.as_bytes(), SlotAddr::Master);
                let answer = conn
                    .route_command(
                        wait,
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route)),
                    )
                    .await?;
                redis::from_redis_value(answer)?
            }
        };
        Ok(u32::try_from(confirmed.max(0)).unwrap_or(u32::MAX))
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Node(conn) => conn.req_packed_command(cmd),
            Connection::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Node(conn) => conn.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Node(conn) => conn.get_db(),
            Connection::Cluster(conn) => conn.get_db(),
        }
    }
}
