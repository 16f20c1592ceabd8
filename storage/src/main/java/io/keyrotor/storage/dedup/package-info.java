/** The request-id table that makes a retried write apply once: lookup, record, bounded eviction. */
package io.keyrotor.storage.dedup;
