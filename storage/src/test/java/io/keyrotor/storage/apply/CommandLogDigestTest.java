package io.keyrotor.storage.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.RequestRecord;
import io.keyrotor.storage.KeyStateStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pins what fixed command logs leave in a real store: the state (what the digest sums), the event
 * stream, the results returned and the audit records apart from their action names (and the hash
 * chain, which covers them). A change to apply that changes a stored record, a result message, a
 * reason or an event fails here; the pinned values were taken before the transitions were split
 * into handlers.
 */
class CommandLogDigestTest {
  private static final int COMMANDS = 600;

  /**
   * Per seed: the hash of the state, of the results returned (message included), of the events, of
   * the audit records.
   */
  private static final List<List<String>> PINNED =
      List.of(
          List.of(
              "seed 1",
              "8 keys, 12 requests:"
                  + "323af3fde4aabcd0ada70faf0733859d04ce64458c472a78aeab29572fbca989",
              "cbee430d5b6d055c8d170679cc626cdf85930c245ddf182572b5ae4e0b9f64a3",
              "366:e07dfcda942f477f85326b167932b842da609fe3e55c633ae13b9252ef3e3172",
              "600:e6bd1d39f4437421f2c59e6352954260834a6e94588cc413c255e98c423944f7"),
          List.of(
              "seed 2",
              "8 keys, 21 requests:"
                  + "40765f1e91487579e5dfaea4b775497c730a9bc8e6bc6e9d9640714994cca566",
              "7bf9f79d581c521d1bce49bee0deaba29e280998b574959fb0cd0a4da3ee39bf",
              "293:4a4c68f8edf3c9c0a7c6b661b05854fb91125904dafae527dd38b66366aaea5e",
              "600:c99b8dbc7aef2789ceef02ad7cf8077fa75cab5f83e20d4a2854414bbc319e80"),
          List.of(
              "seed 3",
              "8 keys, 161 requests:"
                  + "22ecddcc1294000623096015865abd03cd17cc040e2768e6378ca93c39113e11",
              "b5751d69135c168354e5b59b6e6c8fc419d2bfb03d86fa7099c6a500b65a598a",
              "346:9ed0a3f58ca22c8baa33cfe74edcfcc80cfe27b727798532e932fee98e5855dd",
              "600:46ce195b7e3f904b98ecf80687def253d33e8df9a083e5e856e3ae12feefc187"));

  @TempDir Path dir;

  @Test
  void fixedCommandLogs_leaveThePinnedDigestEventsAndAuditDetails() throws Exception {
    Set<Command.BodyCase> applied = EnumSet.noneOf(Command.BodyCase.class);
    Set<Command.BodyCase> refused = EnumSet.noneOf(Command.BodyCase.class);
    StringBuilder actual = new StringBuilder();
    for (int seed = 1; seed <= 3; seed++) {
      try (KeyStateStore store = KeyStateStore.open(dir.resolve("seed-" + seed))) {
        RandomCommands commands = new RandomCommands(seed);
        Set<String> requestIds = new TreeSet<>();
        MessageDigest results = MessageDigest.getInstance("SHA-256");
        for (int index = 1; index <= COMMANDS; index++) {
          Command command =
              commands.next(io.keyrotor.storage.AllKeys.of(store), store.zoneMasterKeys());
          requestIds.add(command.getRequestId());
          CommandResult result = store.apply(command, 1, index);
          results.update(result.toByteArray());
          (result.getOutcome().getCode() == Code.OK_VALUE ? applied : refused)
              .add(command.getBodyCase());
        }
        List<String> observed =
            List.of(
                "seed " + seed,
                stateHash(store, requestIds),
                HexFormat.of().formatHex(results.digest()),
                eventsHash(store),
                auditHash(store));
        actual.append(observed).append('\n');
        assertEquals(PINNED.get(seed - 1), observed, "all seeds so far:\n" + actual);
      }
    }
    // The authorisation commands came after these logs were pinned; the golden log and
    // AuthorizationApplyTest apply them (a random principal would only be refused). So did
    // ReserveEncryptions: the golden log and ReserveEncryptionsHandlerTest apply it. So did
    // RecordDataAuditHead: the golden log applies it.
    // AdmitNode and RemoveNode: the golden log, MembershipHandlersTest and KeyStateStoreTest.
    assertEquals(
        EnumSet.complementOf(
            EnumSet.of(
                Command.BodyCase.SET_AUTHORIZATION_POLICY,
                Command.BodyCase.BOOTSTRAP_AUTHORIZATION_POLICY,
                Command.BodyCase.RECORD_DENIALS,
                Command.BodyCase.RESERVE_ENCRYPTIONS,
                Command.BodyCase.RECORD_DATA_AUDIT_HEAD,
                // The audit trail's commands: the golden log and AuditChainTamperTest apply them.
                Command.BodyCase.REGISTER_AUDIT_KEY,
                Command.BodyCase.RECORD_AUDIT_CHECKPOINT,
                Command.BodyCase.ADMIT_NODE,
                Command.BodyCase.REMOVE_NODE,
                // The cluster version: the golden log and ClusterVersionTest apply it.
                Command.BodyCase.SET_CLUSTER_VERSION,
                // Batches and retention: the golden log, KeyStateStoreBatchTest and
                // HistoryTrimTest apply them.
                Command.BodyCase.BATCH,
                Command.BodyCase.TRIM_HISTORY,
                // Receipt signatures: DestructionReceiptsTest applies them.
                Command.BodyCase.SIGN_DESTRUCTION_RECEIPT)),
        union(applied, refused),
        "every kind");
    assertTrue(refused.size() > 15, "most kinds are also refused sometimes: " + refused);
  }

  private static Set<Command.BodyCase> union(Set<Command.BodyCase> a, Set<Command.BodyCase> b) {
    Set<Command.BodyCase> all = EnumSet.copyOf(a);
    all.addAll(b);
    return all;
  }

  /**
   * The records the state digest sums (keys, nodes, zone master keys, bulk rotations, remembered
   * request results), read through the store's public views. The digest the store reports also
   * covers the audit chain head, which changes with the action names.
   */
  private static String stateHash(KeyStateStore store, Set<String> requestIds) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    store.allKeys().forEach(record -> sha.update(record.toByteArray()));
    store.nodes().values().forEach(record -> sha.update(record.toByteArray()));
    store.zoneMasterKeys().values().forEach(record -> sha.update(record.toByteArray()));
    store.bulkRotations().values().forEach(record -> sha.update(record.toByteArray()));
    int remembered = 0;
    for (String id : requestIds) {
      Optional<RequestRecord> request = store.request(id);
      if (request.isPresent()) {
        sha.update(id.getBytes(StandardCharsets.UTF_8));
        sha.update(request.get().toByteArray());
        remembered++;
      }
    }
    return store.keyCount()
        + " keys, "
        + remembered
        + " requests:"
        + HexFormat.of().formatHex(sha.digest());
  }

  private static String eventsHash(KeyStateStore store) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    List<KeyEventRecord> events = store.eventsAfter(-1, Integer.MAX_VALUE);
    for (KeyEventRecord event : events) {
      sha.update(event.toByteArray());
    }
    return events.size() + ":" + HexFormat.of().formatHex(sha.digest());
  }

  /**
   * The audit records without their action names and the hashes that cover them. SET_VERSION_STATUS
   * was audited as ENABLE_VERSION or DISABLE_VERSION before; its detail now starts with the verb
   * instead, which is taken off here.
   */
  private static String auditHash(KeyStateStore store) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    List<AuditRecord> audit = store.audit(0, Integer.MAX_VALUE);
    for (AuditRecord record : audit) {
      AuditRecord.Builder comparable =
          record.toBuilder().clearAction().clearHash().clearPreviousHash();
      if (record.getAction().equals(AuditAction.SET_VERSION_STATUS.name())) {
        comparable.setDetail(record.getDetail().replaceFirst("^(enable|disable|set \\S+) ", ""));
      }
      sha.update(comparable.build().toByteArray());
    }
    return audit.size() + ":" + HexFormat.of().formatHex(sha.digest());
  }
}
