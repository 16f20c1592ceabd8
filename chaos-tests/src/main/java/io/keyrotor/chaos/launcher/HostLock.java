package io.keyrotor.chaos.launcher;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * One namespace run at a time per host: a lock on {@code /run/lock/keyrotor-chaos.lock}, so that
 * whatever carries the launcher's prefix when a run holds it was leaked by a crashed run.
 */
final class HostLock {
  private static final Path LOCK_FILE = Path.of("/run/lock/keyrotor-chaos.lock");

  private FileChannel channel;
  private FileLock lock;

  /** Waits up to 30 minutes for another run on this host to finish. */
  void acquire() throws IOException {
    Files.createDirectories(LOCK_FILE.getParent());
    channel = FileChannel.open(LOCK_FILE, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
    boolean told = false;
    while ((lock = channel.tryLock()) == null) {
      if (System.nanoTime() > deadline) {
        throw new IOException("another chaos run has held " + LOCK_FILE + " for 30 minutes");
      }
      if (!told) {
        System.err.println("chaos: waiting for another namespace run on this host to finish");
        told = true;
      }
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Releases the lock if it was taken. */
  void release() {
    try {
      if (lock != null) {
        lock.release();
      }
      if (channel != null) {
        channel.close();
      }
    } catch (IOException e) {
      // the lock goes with the process anyway
    }
  }
}
