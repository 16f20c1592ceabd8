package io.keyrotor.crypto.backup;

import java.io.IOException;

/** A backup file that cannot be read as one: its message says what is wrong, for a person. */
public final class BackupFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  public BackupFormatException(String message) {
    super(message);
  }
}
