/**
 * The state store's RocksDB layout and lifecycle: the column families, opening and closing the
 * database with its options, the META family's values, and the one write batch per command that
 * keeps the state digest in step.
 */
package io.keyrotor.storage.schema;
