package io.keyrotor.bench;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The crypto floor of a rewrap, in this process: AES-256-GCM open of a 32-byte data key under one
 * key and seal under another (12-byte nonce, 16-byte tag, a header-sized associated data), with the
 * JDK provider, one Cipher per thread, on every core. No transport, no state, no HSM.
 */
final class RawAesGcm {
  private static final int TAG_BITS = 128;

  private RawAesGcm() {}

  /** {@code count} sealed data keys under {@code key} with {@code aad}: the input of a rewrap. */
  static List<byte[]> sealAll(SecretKey key, byte[] aad, int count)
      throws GeneralSecurityException {
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    List<byte[]> out = new ArrayList<>(count);
    byte[] dataKey = new byte[32];
    for (int i = 0; i < count; i++) {
      byte[] blob = new byte[12 + 32 + 16];
      ByteBuffer.wrap(blob).putLong(4, i);
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, blob, 0, 12));
      cipher.updateAAD(aad);
      cipher.doFinal(dataKey, 0, 32, blob, 12);
      out.add(blob);
    }
    return out;
  }

  /**
   * Opens every blob under {@code from} and seals its data key under {@code to} with a fresh
   * (counter) nonce, on {@code threads} threads; returns the seconds it took.
   */
  static double rewrap(List<byte[]> blobs, SecretKey from, SecretKey to, byte[] aad, int threads)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      long begin = System.nanoTime();
      List<Future<Long>> parts = new ArrayList<>();
      int per = (blobs.size() + threads - 1) / threads;
      for (int t = 0; t < threads; t++) {
        int first = t * per;
        int last = Math.min(blobs.size(), first + per);
        int thread = t;
        parts.add(pool.submit(() -> rewrapRange(blobs, first, last, from, to, aad, thread)));
      }
      long checksum = 0;
      for (Future<Long> part : parts) {
        checksum += part.get();
      }
      double seconds = (System.nanoTime() - begin) / 1e9;
      if (checksum == 42) {
        System.out.print(""); // keep the work observable
      }
      return seconds;
    } finally {
      pool.shutdownNow();
    }
  }

  private static long rewrapRange(
      List<byte[]> blobs, int first, int last, SecretKey from, SecretKey to, byte[] aad, int thread)
      throws GeneralSecurityException {
    Cipher open = Cipher.getInstance("AES/GCM/NoPadding");
    Cipher seal = Cipher.getInstance("AES/GCM/NoPadding");
    byte[] dataKey = new byte[32];
    byte[] out = new byte[12 + 32 + 16];
    long checksum = 0;
    for (int i = first; i < last; i++) {
      byte[] blob = blobs.get(i);
      open.init(Cipher.DECRYPT_MODE, from, new GCMParameterSpec(TAG_BITS, blob, 0, 12));
      open.updateAAD(aad);
      open.doFinal(blob, 12, blob.length - 12, dataKey, 0);
      ByteBuffer.wrap(out).putInt(0, thread).putLong(4, i);
      seal.init(Cipher.ENCRYPT_MODE, to, new GCMParameterSpec(TAG_BITS, out, 0, 12));
      seal.updateAAD(aad);
      seal.doFinal(dataKey, 0, 32, out, 12);
      checksum += out[20];
    }
    return checksum;
  }

  static SecretKey key(byte fill) {
    byte[] bytes = new byte[32];
    java.util.Arrays.fill(bytes, fill);
    return new SecretKeySpec(bytes, "AES");
  }
}
