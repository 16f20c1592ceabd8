package io.keyrotor.cli;

import io.keyrotor.client.KeyrotorClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * SDK clients kept from one command line to the next by the resident CLI process, so that a command
 * reuses the connections (and TLS sessions) of an earlier one instead of paying a new handshake.
 *
 * <p>Commands share a client when they name the same servers, deadline and transport security
 * ({@code connection}: the resolved options) and the TLS files they read are unchanged ({@code
 * files}: each file's modification time, size and inode). A certificate or key that was rewritten
 * or replaced makes a new client; the one it replaces is closed as soon as no command uses it, so
 * no command presents an identity its files no longer hold. At most {@code capacity} connections
 * are kept, the least recently used closed first. Thread-safe.
 */
public final class SharedClients implements AutoCloseable {

  /** A kept client, the version of its TLS files, and how many commands use it now. */
  private static final class Entry {
    final KeyrotorClient client;
    final String files;
    int users;
    boolean retired;

    Entry(KeyrotorClient client, String files) {
      this.client = client;
      this.files = files;
    }
  }

  private final int capacity;
  // Access order: the eldest entry is the least recently used.
  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
  private final IdentityHashMap<KeyrotorClient, Entry> inUse = new IdentityHashMap<>();
  private boolean closed;

  /**
   * @param capacity how many clients (one per connection settings) are kept at most
   */
  public SharedClients(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
    }
    this.capacity = capacity;
  }

  /**
   * The version of {@code files} (modification time, size and inode of each), or empty when one
   * cannot be read: then the command builds a client of its own, which reports the problem as the
   * direct CLI does.
   */
  static Optional<String> versionOf(List<Path> files) {
    StringBuilder version = new StringBuilder();
    for (Path file : files) {
      try {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        version
            .append(file)
            .append('@')
            .append(attributes.lastModifiedTime().toInstant())
            .append('/')
            .append(attributes.size())
            .append('/')
            .append(attributes.fileKey())
            .append(';');
      } catch (IOException e) {
        return Optional.empty();
      }
    }
    return Optional.of(version.toString());
  }

  /**
   * The client for {@code connection} whose TLS files are at version {@code files}, built with
   * {@code create} when there is none (or the files changed); give it back with {@link #release}.
   */
  KeyrotorClient acquire(String connection, String files, Supplier<KeyrotorClient> create) {
    List<KeyrotorClient> toClose = new ArrayList<>();
    KeyrotorClient client;
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("the shared clients are closed");
      }
      Entry entry = entries.get(connection);
      if (entry != null && !entry.files.equals(files)) {
        entries.remove(connection);
        retire(entry, toClose);
        entry = null;
      }
      if (entry == null) {
        entry = new Entry(create.get(), files);
        entries.put(connection, entry);
        while (entries.size() > capacity) {
          Map.Entry<String, Entry> eldest = entries.entrySet().iterator().next();
          entries.remove(eldest.getKey());
          retire(eldest.getValue(), toClose);
        }
      }
      entry.users++;
      inUse.put(entry.client, entry);
      client = entry.client;
    }
    toClose.forEach(KeyrotorClient::close);
    // A node that was down while the client was idle is dialled again at once, as a new client
    // would.
    client.resetConnectBackoff();
    return client;
  }

  /** Gives back a client of {@link #acquire}; a replaced one is closed by its last user. */
  void release(KeyrotorClient client) {
    boolean close;
    synchronized (this) {
      Entry entry = inUse.get(client);
      if (entry == null) {
        return;
      }
      entry.users--;
      if (entry.users == 0) {
        inUse.remove(client);
      }
      close = entry.users == 0 && entry.retired;
    }
    if (close) {
      client.close();
    }
  }

  /** How many clients are kept. */
  public synchronized int size() {
    return entries.size();
  }

  private void retire(Entry entry, List<KeyrotorClient> toClose) {
    entry.retired = true;
    if (entry.users == 0) {
      toClose.add(entry.client);
    }
  }

  /** Closes every client kept (commands still running keep theirs until they give it back). */
  @Override
  public void close() {
    List<KeyrotorClient> toClose = new ArrayList<>();
    synchronized (this) {
      closed = true;
      for (Entry entry : entries.values()) {
        retire(entry, toClose);
      }
      entries.clear();
    }
    toClose.forEach(KeyrotorClient::close);
  }
}
