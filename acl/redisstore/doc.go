// Package redisstore is the acl.Store for many gateway replicas: Redis
// (go-redis v9) as the store of record, events on Redis pub/sub.
//
// Every write is one Lua script: it checks everything first, then writes
// the records, every index and the PUBLISH of its events, so a write is
// atomic, a failed write changes nothing, and no write is ever without its
// event. Values are JSON strings (or sets and hashes of names), readable
// with redis-cli. Scripts address keys they compute from the prefix, so
// the store needs a single Redis (or a primary with replicas), not Redis
// Cluster.
//
// Key layout, under a prefix P (default "wsgate:", so bob's record is
// "wsgate:user:bob"; two deployments with different prefixes share a Redis
// without seeing each other's data or events):
//
//	P users                       set of user names
//	P user:<name>                 user JSON (no keys, no groups)
//	P user:<name>:keys            hash fingerprint → public key JSON
//	P user:<name>:groups          set of group names
//	P user:<name>:grants          set of workspace ids granting the user
//	P user:<name>:workspaces      set of workspace ids the user owns
//	P user:<name>:tokens          hash token id → token hash
//	P key:<fingerprint>           user name
//	P groups                      set of group names
//	P group:<name>                group JSON (no members)
//	P group:<name>:members        set of user names
//	P group:<name>:grants         set of workspace ids granting the group
//	P orgs                        set of org names
//	P org:<name>                  org JSON
//	P settings                    settings JSON
//	P workspaces                  set of workspace ids ("owner/name")
//	P workspace:<owner>/<name>    workspace JSON, agent_token_hash included
//	P workspace-uid:<uid>         workspace id
//	P workspace:<id>:grants       hash "user:<name>" | "group:<name>" → grant JSON
//	P agent-token:<hash>          workspace id
//	P token:<hash>                API token JSON, hash included
//	P secret:<name>               32 random bytes (Store.Secret)
//	P grant-expiry                sorted set, all scores 0, members
//	                              "<expiry ns, 19 digits>|<id>|<user:name|group:name>"
//	P events                      pub/sub channel of acl.Event JSON
//
// Names cannot hold ":" or "/" (acl.ValidateName), so keys cannot collide;
// fingerprints, hashes and uids only ever end a key.
//
// Data written before workspaces had UIDs needs one call of Store.Migrate
// (after Ping, before serving); until then such a workspace reads with an
// empty UID and is not found by it.
//
// Subscribe opens one pub/sub connection per subscription. When that
// connection fails (or stops answering the health-check PING), the
// subscription reconnects with backoff and, once subscribed again, delivers
// acl.EventResync, because events published meanwhile are lost.
package redisstore
