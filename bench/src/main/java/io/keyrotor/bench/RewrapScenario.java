package io.keyrotor.bench;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.BatchReEncryptRequest;
import io.keyrotor.api.v1.BatchReEncryptResponse;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.RotateKeyResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Rewrap of stored data keys after a rotation: N data keys generated under one key (set-up), the
 * key rotated, then every data key re-encrypted to the new primary with BatchReEncrypt, batches of
 * 1,000 spread over all three nodes (a follower serves a batch locally after a ReadIndex), a few in
 * flight per node. Every item's status and new version is checked. Baseline: raw AES-GCM unwrap and
 * wrap of the same count in this process, on every core.
 */
final class RewrapScenario {
  static final String NAME = "rewrap";
  static final int BATCH = 1_000;
  static final int IN_FLIGHT_PER_NODE = 2;

  private RewrapScenario() {}

  static void run(BenchRun run) throws Exception {
    int count = run.rewrapCount;
    KeyrotorTarget cluster = run.keyrotor;
    String key = cluster.createKeys("rewrap", "default", 1, run.progress).get(0);
    long setupBegin = System.nanoTime();
    List<ByteString> stored =
        cluster.wrappedDataKeys(List.of(key), BenchRun.CONTEXT, count, run.progress);
    double setupSeconds = (System.nanoTime() - setupBegin) / 1e9;
    run.observe(
        NAME,
        "keyrotor",
        "setup_generate_data_keys_per_s",
        count / setupSeconds,
        "ops/s",
        0,
        "GenerateDataKeyWithoutPlaintext at 64 in flight on the leader (set-up, not a target)");
    RotateKeyResponse rotated =
        BenchRun.retrying(
            () ->
                cluster
                    .blocking(cluster.leaderAddress())
                    .rotateKey(KeyrotorTarget.rotateRequest(List.of(key), 0)),
            5);
    int newVersion = rotated.getNewVersion();
    List<String> nodes = new ArrayList<>(cluster.addressesById().values());
    Semaphore permits = new Semaphore(IN_FLIGHT_PER_NODE * nodes.size());
    AtomicLong ok = new AtomicLong();
    AtomicLong wrongVersion = new AtomicLong();
    Map<String, Long> itemErrors = new TreeMap<>();
    AtomicReference<Throwable> callFailure = new AtomicReference<>();
    int batches = (count + BATCH - 1) / BATCH;
    run.progress.status(String.format("rewrap: %,d data keys in %,d batches", count, batches));
    long begin = System.nanoTime();
    long lastProgress = begin;
    for (int b = 0; b < batches && callFailure.get() == null; b++) {
      permits.acquire();
      BatchReEncryptRequest.Builder request = BatchReEncryptRequest.newBuilder();
      for (int i = b * BATCH; i < Math.min(count, (b + 1) * BATCH); i++) {
        request.addItems(
            ReEncryptRequest.newBuilder()
                .setCiphertext(stored.get(i))
                .putAllContext(BenchRun.CONTEXT)
                .build());
      }
      ListenableFuture<BatchReEncryptResponse> future =
          cluster.batchReEncrypt(nodes.get(b % nodes.size()), request.build());
      future.addListener(
          () -> {
            try {
              for (BatchReEncryptResponse.Item item : future.get().getItemsList()) {
                if (item.getStatus().getCode() != 0) {
                  synchronized (itemErrors) {
                    itemErrors.merge(item.getStatus().getReason(), 1L, Long::sum);
                  }
                } else if (item.getResult().getKeyVersion() != newVersion) {
                  wrongVersion.incrementAndGet();
                } else {
                  ok.incrementAndGet();
                }
              }
            } catch (ExecutionException e) {
              callFailure.compareAndSet(null, e.getCause());
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            } finally {
              permits.release();
            }
          },
          Runnable::run);
      long now = System.nanoTime();
      if (now - lastProgress > 500_000_000L) {
        run.progress.update("rewrap/keyrotor", (long) b * BATCH, (now - begin) / 1e9, 0);
        lastProgress = now;
      }
    }
    permits.acquire(IN_FLIGHT_PER_NODE * nodes.size());
    double seconds = (System.nanoTime() - begin) / 1e9;
    long failed = itemErrors.values().stream().mapToLong(Long::longValue).sum();
    String detail =
        String.format(
            "%,d data keys, batches of %,d, %d in flight per node on %d nodes; ok %,d, item errors"
                + " %s, wrong version %,d%s",
            count,
            BATCH,
            IN_FLIGHT_PER_NODE,
            nodes.size(),
            ok.get(),
            itemErrors,
            wrongVersion.get(),
            callFailure.get() == null ? "" : ", call failed: " + callFailure.get());
    run.observe(NAME, "keyrotor", "seconds", seconds, "s", 0, detail);
    run.observe(NAME, "keyrotor", "items_per_s", ok.get() / seconds, "ops/s", 0, detail);
    run.observe(
        NAME,
        "keyrotor",
        "seconds_per_million",
        seconds * 1_000_000.0 / count,
        "s",
        0,
        count == 1_000_000 ? "measured" : "projected linearly from " + count);
    run.observe(
        NAME,
        "keyrotor",
        "failed_items",
        (double) (failed + wrongVersion.get() + (count - ok.get() - failed - wrongVersion.get())),
        "items",
        0,
        detail);
    run.observe(NAME, "keyrotor", "count", count, "items", 0, "");

    // The floor: the same count, unwrap + wrap, raw JDK AES-GCM on every core of this machine.
    stored = null; // let the set-up go before the baseline allocates its own
    byte[] aad = new byte[40];
    List<byte[]> blobs = RawAesGcm.sealAll(RawAesGcm.key((byte) 1), aad, count);
    run.progress.status(String.format("rewrap: raw AES-GCM of %,d data keys", count));
    double raw =
        RawAesGcm.rewrap(
            blobs,
            RawAesGcm.key((byte) 1),
            RawAesGcm.key((byte) 2),
            aad,
            Runtime.getRuntime().availableProcessors());
    run.observe(
        NAME,
        "raw-aes-gcm",
        "seconds",
        raw,
        "s",
        0,
        "in-process, " + Runtime.getRuntime().availableProcessors() + " threads");
  }
}
