package io.keyrotor.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class KeyspaceScenarioTest {
  @Test
  void keyNames_areFixedWidthSoTheySortByIndex() {
    assertEquals("p-000000007", KeyspaceLoader.name("p-", 7));
    assertEquals("p-000999999", KeyspaceLoader.name("p-", 999_999));
    assertTrue(KeyspaceLoader.name("p-", 99).compareTo(KeyspaceLoader.name("p-", 100)) < 0);
    assertNotEquals(KeyspaceLoader.name("p-", 1), KeyspaceLoader.name("p-", 10));
    assertThrows(IllegalArgumentException.class, () -> KeyspaceLoader.name("p-", -1));
  }

  @Test
  void readSample_spreadsOverTheWholeKeyspace() {
    long[] spread = KeyspaceLoader.spread(1_000_000, 10_000);
    assertEquals(10_000, spread.length);
    assertEquals(0, spread[0]);
    assertEquals(999_900, spread[spread.length - 1]);
    for (int i = 1; i < spread.length; i++) {
      assertEquals(100, spread[i] - spread[i - 1]);
    }
    // Fewer keys than the sample: every key once.
    assertArrayEquals(new long[] {0, 1, 2}, KeyspaceLoader.spread(3, 10_000));
    assertThrows(IllegalArgumentException.class, () -> KeyspaceLoader.spread(0, 10));
  }

  @Test
  void heapInfo_sumsTheGenerationsAndLeavesMetaspaceOut() {
    String serial =
        """
         def new generation   total 78656K, used 1398K [0x00000000f0000000, 0x00000000f5550000)
          eden space 69952K,   2% used [0x00000000f0000000, 0x00000000f015d8d8, 0x00000000f4450000)
         tenured generation   total 174784K, used 40213K [0x00000000f5550000, 0x0000000100000000)
         Metaspace       used 61234K, committed 61888K, reserved 1114112K
          class space    used 7654K, committed 7936K, reserved 1048576K
        """;
    assertEquals(1398 + 40213, NodeProcess.heapUsedKb(serial));
    String g1 =
        """
         garbage-first heap   total 262144K, used 53211K [0x00000000f0000000, 0x0000000100000000)
          region size 1024K, 2 young (2048K), 0 survivors (0K)
         Metaspace       used 61234K, committed 61888K, reserved 1114112K
        """;
    assertEquals(53211, NodeProcess.heapUsedKb(g1));
    assertThrows(IllegalArgumentException.class, () -> NodeProcess.heapUsedKb("nothing here"));
  }

  @Test
  void vmRss_isReadFromProcStatus() {
    String status = "Name:\tjava\nVmPeak:\t 3000000 kB\nVmRSS:\t  412345 kB\nThreads:\t40\n";
    assertEquals(412_345, NodeProcess.vmRssKb(status));
    assertThrows(IllegalArgumentException.class, () -> NodeProcess.vmRssKb("Name:\tjava\n"));
  }

  @Test
  void dataDirectory_isNodePropertiesDataDirUnderTheNode(@TempDir Path cluster) throws Exception {
    Files.createDirectories(cluster.resolve("n2"));
    Files.writeString(
        cluster.resolve("n2/node.properties"),
        "node.id=n2\ndata.dir=data\n",
        StandardCharsets.UTF_8);
    assertEquals(cluster.resolve("n2/data"), KeyspaceScenario.dataDirectory(cluster, "n2"));
    Files.writeString(cluster.resolve("n2/node.properties"), "node.id=n2\n");
    assertThrows(Exception.class, () -> KeyspaceScenario.dataDirectory(cluster, "n2"));
  }

  @Test
  void directoryBytes_sumsRegularFilesInSubdirectories(@TempDir Path dir) throws Exception {
    Files.write(dir.resolve("a"), new byte[1000]);
    Files.createDirectories(dir.resolve("log/current"));
    Files.write(dir.resolve("log/current/segment"), new byte[2345]);
    Files.createDirectories(dir.resolve("empty"));

    assertEquals(3345, KeyspaceScenario.directoryBytes(dir));
  }

  @Test
  void keyspace_runsOnlyWhenNamedAndLast() {
    assertTrue(BenchMain.KNOWN_SCENARIOS.contains("keyspace"));
    assertTrue(!BenchMain.SCENARIOS.contains("keyspace"), "not in the default run");
    assertEquals("keyspace", BenchMain.KNOWN_SCENARIOS.get(BenchMain.KNOWN_SCENARIOS.size() - 1));
    assertEquals("keyrotor-1,000-keys", KeyspaceScenario.target(1_000));
  }

  @Test
  void run_refusesTooSmallAKeyspaceAndUnknownScenariosBeforeConnecting(@TempDir Path dir) {
    String[] common = {
      "run",
      "--servers",
      "127.0.0.1:1",
      "--echo",
      "127.0.0.1:2",
      "--echo-plaintext",
      "--cluster-dir",
      dir.toString(),
      "--out",
      dir.resolve("out.json").toString()
    };
    // A usage error (2) before any connection; the run itself would wait for a leader at port 1.
    assertEquals(2, exitCode(common, "--scenarios", "keyspace", "--keys", "1000"));
    assertEquals(2, exitCode(common, "--scenarios", "keyspaces"));
  }

  private static int exitCode(String[] common, String... more) {
    String[] args = new String[common.length + more.length];
    System.arraycopy(common, 0, args, 0, common.length);
    System.arraycopy(more, 0, args, common.length, more.length);
    return new CommandLine(new BenchMain()).execute(args);
  }
}
