package io.keyrotor.bench;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.common.util.concurrent.SettableFuture;
import io.keyrotor.api.v1.BulkRotation;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.GetBulkRotationRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.ListKeysRequest;
import io.keyrotor.api.v1.ListKeysResponse;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.api.v1.StartBulkRotationRequest;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Issue 5's incident: every key of a zone rotated at once with reason COMPROMISE (each new version
 * primary at once, the old one disabled), while a client keeps generating data keys and decrypting
 * them. The zone "local" of a scripts/cluster cluster holds only this scenario's keys. Completion:
 * GetBulkRotation reports 0 remaining on the leader, and every node lists every key of the zone
 * with a primary version newer than the one it had (each node polled through ListKeys).
 *
 * <p>The client's calls are counted as succeeded, refused by design (a Decrypt of a data key whose
 * version the compromise rotation disabled between its GenerateDataKey and its Decrypt: exactly
 * what a compromise rotation must do) or failed (anything else).
 */
final class IncidentRotationScenario {
  static final String NAME = "incident-rotation";
  static final String ZONE = "local";
  static final int CLIENT_IN_FLIGHT = 8;

  private IncidentRotationScenario() {}

  static void run(BenchRun run) throws Exception {
    KeyrotorTarget cluster = run.keyrotor;
    int count = run.incidentKeys;
    List<String> keys = cluster.createKeys("incident", ZONE, count, run.progress);
    Set<String> expected = new HashSet<>(keys);
    List<String> clientKeys = keys.subList(0, Math.min(16, keys.size()));
    CallOutcomes outcomes = new CallOutcomes(Set.of("VERSION_DISABLED"));
    Operation client = sequence -> generateThenDecrypt(cluster, clientKeys, sequence, outcomes);
    Map<String, Double> nodeSeconds = new LinkedHashMap<>();
    double remainingZeroSeconds;
    double seconds;
    String jobId;
    LoadRunner.Background background = LoadRunner.background(client, CLIENT_IN_FLIGHT);
    try {
      Thread.sleep(1_000);
      long begin = System.nanoTime();
      BulkRotation job =
          BenchRun.retrying(
              () ->
                  cluster
                      .blocking(cluster.leaderAddress())
                      .startBulkRotation(
                          StartBulkRotationRequest.newBuilder()
                              .setZone(ZONE)
                              .setReason(RotationReason.ROTATION_REASON_COMPROMISE)
                              .setRequestId(UUID.randomUUID().toString())
                              .build()),
              5);
      jobId = job.getId();
      long deadline = begin + TimeUnit.SECONDS.toNanos(run.quick ? 60 : 300);
      BulkRotation status = job;
      while (status.getRemaining() > 0 || status.getTotal() == 0) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the bulk rotation did not finish: " + status);
        }
        Thread.sleep(20);
        status =
            cluster
                .blocking(cluster.leaderAddress())
                .getBulkRotation(GetBulkRotationRequest.newBuilder().setId(jobId).build());
        run.progress.status(
            String.format(
                "incident rotation: %,d of %,d keys remaining after %.1f s",
                status.getRemaining(), status.getTotal(), (System.nanoTime() - begin) / 1e9));
      }
      remainingZeroSeconds = (System.nanoTime() - begin) / 1e9;
      // Every node, through its own linearizable ListKeys: every key primary on a newer version.
      for (Map.Entry<String, String> node : cluster.addressesById().entrySet()) {
        while (!allRotated(cluster, node.getValue(), expected)) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(
                "node " + node.getKey() + " never showed every key rotated");
          }
          Thread.sleep(20);
        }
        nodeSeconds.put(node.getKey(), (System.nanoTime() - begin) / 1e9);
      }
      seconds = (System.nanoTime() - begin) / 1e9;
      Thread.sleep(1_000);
    } finally {
      background.stop();
    }
    String detail =
        String.format(
            "%,d keys in zone %s, reason COMPROMISE; remaining=0 on the leader after %.2f s; every"
                + " key primary on a new version per node at %s s; client %d in flight"
                + " (GenerateDataKey then Decrypt): %,d ok, %,d refused by design"
                + " (VERSION_DISABLED), failures %s",
            count,
            ZONE,
            remainingZeroSeconds,
            nodeSeconds,
            CLIENT_IN_FLIGHT,
            outcomes.ok(),
            outcomes.refused(),
            outcomes.failures());
    run.observe(NAME, "keyrotor", "seconds", seconds, "s", 0, detail);
    run.observe(NAME, "keyrotor", "keys", count, "keys", 0, "");
    run.observe(
        NAME, "keyrotor", "failed_calls", (double) outcomes.failedCount(), "calls", 0, detail);
    run.observe(NAME, "keyrotor", "ok_calls", (double) outcomes.ok(), "calls", 0, "");
    run.observe(NAME, "keyrotor", "refused_by_design", (double) outcomes.refused(), "calls", 0, "");
    run.observe(
        NAME,
        "keyrotor",
        "seconds_per_10k_keys",
        seconds * 10_000.0 / count,
        "s",
        0,
        count == 10_000 ? "measured" : "projected linearly from " + count + " keys");
  }

  /** Whether the node at {@code address} lists every expected key with primary version >= 2. */
  private static boolean allRotated(KeyrotorTarget cluster, String address, Set<String> expected) {
    Set<String> rotated = new HashSet<>();
    String token = "";
    do {
      ListKeysResponse page =
          cluster
              .blocking(address)
              .listKeys(
                  ListKeysRequest.newBuilder()
                      .setZone(ZONE)
                      .setPageSize(1000)
                      .setPageToken(token)
                      .build());
      for (Key key : page.getKeysList()) {
        if (expected.contains(key.getName()) && key.getPrimaryVersion() >= 2) {
          rotated.add(key.getName());
        }
      }
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return rotated.size() == expected.size();
  }

  private static ListenableFuture<Object> generateThenDecrypt(
      KeyrotorTarget cluster, List<String> keys, long sequence, CallOutcomes outcomes) {
    SettableFuture<Object> done = SettableFuture.create();
    ListenableFuture<GenerateDataKeyResponse> generated =
        cluster
            .keys()
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .generateDataKey(
                GenerateDataKeyRequest.newBuilder()
                    .setKeyName(keys.get((int) (sequence % keys.size())))
                    .putAllContext(BenchRun.CONTEXT)
                    .build());
    Futures.addCallback(
        generated,
        new FutureCallback<>() {
          @Override
          public void onSuccess(GenerateDataKeyResponse key) {
            outcomes.succeeded();
            ListenableFuture<?> decrypted =
                cluster
                    .keys()
                    .withDeadlineAfter(5, TimeUnit.SECONDS)
                    .decrypt(
                        DecryptRequest.newBuilder()
                            .setCiphertext(key.getWrappedDataKey())
                            .putAllContext(BenchRun.CONTEXT)
                            .build());
            Futures.addCallback(
                decrypted,
                new FutureCallback<Object>() {
                  @Override
                  public void onSuccess(Object result) {
                    outcomes.succeeded();
                    done.set(result);
                  }

                  @Override
                  public void onFailure(Throwable t) {
                    outcomes.failed("Decrypt", t);
                    done.set(null);
                  }
                },
                MoreExecutors.directExecutor());
          }

          @Override
          public void onFailure(Throwable t) {
            outcomes.failed("GenerateDataKey", t);
            done.set(null);
          }
        },
        MoreExecutors.directExecutor());
    return done;
  }
}
