/** The byte encodings of the state store's RocksDB keys and fixed-width values. */
package io.keyrotor.storage.codec;
