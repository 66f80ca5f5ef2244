// Package fleet is what several gateways sharing one PostgreSQL database
// need beyond their own logs: a lease per node name, so that two gateways
// never write one log; each node's verifier key recorded in the database;
// the fleet-wide secret keys (the commitment key and the PII index key),
// handed from node to node in a keys file and checked against fingerprints
// in the database; and fleet checkpoints, signed notes that commit to the
// heads of every node's log at once.
//
// Every node writes its own log, with its own sequence, chain, tree and
// checkpoints; nothing here takes a lock across nodes. The SQL is plain
// (INSERT ... ON CONFLICT DO NOTHING, conditional UPDATEs, no advisory
// locks, no PostgreSQL-only functions), so that it stays within what
// PostgreSQL-compatible distributed databases accept. Times are the
// gateways' own clocks, in Unix nanoseconds: the nodes' clocks must agree
// to well within LeaseTTL (NTP does).
//
// The tables (node_leases, log_keys, fleet_keys, fleet_checkpoints) are
// created with the rest of the PostgreSQL schema (package
// store/postgres).
package fleet
