package io.keyrotor.storage.version;

import io.keyrotor.storage.StorageException;

/**
 * The replicated state (or the next entry) needs a cluster version above what this node's binary
 * supports: the node must stop rather than apply entries differently from the rest of the cluster.
 */
public final class UnsupportedClusterVersionException extends StorageException {
  private final int required;
  private final int supported;

  public UnsupportedClusterVersionException(String message, int required, int supported) {
    super(message);
    this.required = required;
    this.supported = supported;
  }

  /** The cluster version the state or entry needs. */
  public int required() {
    return required;
  }

  /** The highest version this node supports. */
  public int supported() {
    return supported;
  }
}
