package io.keyrotor.client.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * What a test opened (fake nodes, clients), closed after it in the reverse order of opening, so
 * that clients close before the servers they talk to. A test holds one in a field marked
 * {@code @AutoClose}.
 */
public final class OpenResources implements AutoCloseable {
  private final List<AutoCloseable> open = new ArrayList<>();

  /** Registers {@code resource} to be closed after the test; returns it. */
  public <T extends AutoCloseable> T add(T resource) {
    open.add(resource);
    return resource;
  }

  /** Closes every resource, the newest first; fails after all are closed if any failed. */
  @Override
  public void close() {
    IllegalStateException failure = null;
    for (int i = open.size() - 1; i >= 0; i--) {
      try {
        open.get(i).close();
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        if (failure == null) {
          failure = new IllegalStateException("closing a test resource failed", e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
