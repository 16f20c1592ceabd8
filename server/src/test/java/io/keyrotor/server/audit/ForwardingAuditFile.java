package io.keyrotor.server.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;

/** A real file behind a test's seam: every call passes through unless a test overrides it. */
abstract class ForwardingAuditFile implements AuditFile {
  private final AuditFile real;

  ForwardingAuditFile(AuditFile real) {
    this.real = real;
  }

  /** {@code real}, whose syncs count {@code started} down, then wait for {@code release}. */
  static AuditFile stallingSyncs(AuditFile real, CountDownLatch started, CountDownLatch release) {
    return new ForwardingAuditFile(real) {
      @Override
      public void sync() throws IOException {
        started.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        super.sync();
      }
    };
  }

  @Override
  public long size() throws IOException {
    return real.size();
  }

  @Override
  public void append(ByteBuffer bytes) throws IOException {
    real.append(bytes);
  }

  @Override
  public void sync() throws IOException {
    real.sync();
  }

  @Override
  public void truncate(long size) throws IOException {
    real.truncate(size);
  }

  @Override
  public void close() throws IOException {
    real.close();
  }
}
