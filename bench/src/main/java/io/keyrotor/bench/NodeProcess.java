package io.keyrotor.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The operating-system view of one node of a {@code scripts/cluster} directory: its pid (from
 * {@code DIR/NODE/pid}), its heap after a full collection (asked of the node's JVM with {@code
 * jcmd} over the attach API, so nothing in the node has to publish it) and its resident set ({@code
 * /proc/PID/status}). Used by {@link KeyspaceScenario}: what a node holds in memory is only seen
 * from outside its process.
 */
final class NodeProcess {
  private static final Pattern HEAP_USED =
      Pattern.compile("total\\s+(\\d+)K,\\s+used\\s+(\\d+)K", Pattern.CASE_INSENSITIVE);
  private static final Pattern VM_RSS =
      Pattern.compile("^VmRSS:\\s+(\\d+)\\s+kB", Pattern.MULTILINE);

  private NodeProcess() {}

  /** The pid {@code scripts/cluster} wrote for {@code node}. */
  static long pid(Path clusterDir, String node) throws IOException {
    return Long.parseLong(
        Files.readString(clusterDir.resolve(node).resolve("pid"), StandardCharsets.UTF_8).trim());
  }

  /**
   * Heap used by {@code pid} right after a full collection, in bytes: {@code jcmd PID GC.run} then
   * {@code jcmd PID GC.heap_info}.
   */
  static long heapUsedAfterFullGc(long pid) throws IOException, InterruptedException {
    run(List.of("jcmd", Long.toString(pid), "GC.run"));
    return heapUsedKb(run(List.of("jcmd", Long.toString(pid), "GC.heap_info"))) * 1024;
  }

  /** {@code VmRSS} of {@code pid}, in bytes. */
  static long residentSetBytes(long pid) throws IOException {
    return vmRssKb(Files.readString(Path.of("/proc", Long.toString(pid), "status"))) * 1024;
  }

  /**
   * The heap used, in KiB, from {@code GC.heap_info}'s output: the sum of every "total NK, used MK"
   * line (the generations of the serial and parallel collectors, or G1's one heap line); metaspace
   * lines, which have no "total", are not heap.
   */
  static long heapUsedKb(String heapInfo) {
    long used = 0;
    boolean found = false;
    for (String line : heapInfo.lines().toList()) {
      Matcher m = HEAP_USED.matcher(line);
      if (m.find() && !line.stripLeading().startsWith("Metaspace")) {
        used += Long.parseLong(m.group(2));
        found = true;
      }
    }
    if (!found) {
      throw new IllegalArgumentException("no heap figures in GC.heap_info output: " + heapInfo);
    }
    return used;
  }

  /** {@code VmRSS} in KiB from the text of {@code /proc/PID/status}. */
  static long vmRssKb(String procStatus) {
    Matcher m = VM_RSS.matcher(procStatus);
    if (!m.find()) {
      throw new IllegalArgumentException("no VmRSS line in /proc/PID/status");
    }
    return Long.parseLong(m.group(1));
  }

  /** Runs {@code command} (up to two minutes) and returns what it printed; throws if it failed. */
  static String run(List<String> command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = process.getInputStream().readAllBytes();
    if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IOException(
          "failed: " + String.join(" ", command) + ": " + new String(out, StandardCharsets.UTF_8));
    }
    return new String(out, StandardCharsets.UTF_8);
  }
}
