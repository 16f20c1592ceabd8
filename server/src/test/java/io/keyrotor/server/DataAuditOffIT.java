package io.keyrotor.server;

import static io.keyrotor.server.KeyRequests.decryption;
import static io.keyrotor.server.KeyRequests.encryption;
import static io.keyrotor.server.KeyRequests.newKey;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.KeyServiceGrpc;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code audit.data.enabled=false} (the benchmark arm): a one-node cluster on loopback answers the
 * data plane and writes no data audit record.
 */
class DataAuditOffIT {
  @Test
  void auditOff_dataPlaneAnswers_noRecordWritten(@TempDir Path directory) throws Exception {
    LocalTestCluster cluster = new LocalTestCluster(directory.resolve("c"), 1, List.of("eu"));
    try {
      cluster.configure("n1", "audit.data.enabled", "false");
      cluster.startAll();
      cluster.keysAs("n1", "admin").createKey(newKey("unaudited"));
      KeyServiceGrpc.KeyServiceBlockingStub service = cluster.keysAs("n1", "service");
      long before = cluster.nodes.get("n1").dataAudit().head().sequence();

      ByteString sealed = service.encrypt(encryption("unaudited", "hello")).getCiphertext();
      ByteString opened = service.decrypt(decryption(sealed)).getPlaintext();
      service.generateDataKey(GenerateDataKeyRequest.newBuilder().setKeyName("unaudited").build());

      assertEquals("hello", opened.toStringUtf8());
      assertEquals(before, cluster.nodes.get("n1").dataAudit().head().sequence());
    } finally {
      LocalTestCluster.closeChecked(cluster);
    }
  }
}
