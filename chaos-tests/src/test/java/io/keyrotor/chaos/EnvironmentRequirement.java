package io.keyrotor.chaos;

import io.keyrotor.chaos.launcher.HostCapabilities;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Assumptions;
import org.opentest4j.AssertionFailedError;

/**
 * The one rule for a test that needs something of the machine it runs on (root, {@code ip}, {@code
 * nft}, a built jar): when something is missing, the test is skipped on a developer's machine, and
 * fails under CI ({@code CI=true} in the environment, which {@code .ci/run} exports), so a CI host
 * that lost a requirement cannot go green by skipping the tests that need it. Either way the
 * message names what is missing and how to provide it.
 */
final class EnvironmentRequirement {
  private final Function<String, String> environment;

  /** The rule under this process's environment. */
  static EnvironmentRequirement ofThisProcess() {
    return new EnvironmentRequirement(System::getenv);
  }

  /**
   * @param environment an environment variable's value by name, null when unset
   */
  EnvironmentRequirement(Function<String, String> environment) {
    this.environment = environment;
  }

  /**
   * What the namespace tier (real node processes in network namespaces) needs: root, {@code ip},
   * {@code nft}, a host that does not blackhole the bridge ({@link HostCapabilities#missing()}),
   * and the server's shaded jar.
   */
  void requireNamespaceTier(String test, Path serverJar) {
    List<String> missing = new ArrayList<>(HostCapabilities.probe().missing());
    if (!Files.exists(serverJar)) {
      missing.add("the server jar " + serverJar + " (mvn -B -pl server -am package)");
    }
    require(
        test,
        missing,
        "Run the build as root with iproute2 and nftables (scripts/test installs them).");
  }

  /** Whether the tests run under CI: the environment variable {@code CI} is {@code true}. */
  boolean underCi() {
    String ci = environment.apply("CI");
    return ci != null && ci.strip().equalsIgnoreCase("true");
  }

  /**
   * Returns when {@code missing} is empty. Otherwise skips the calling test (outside CI) or fails
   * it (under CI), naming what is missing.
   *
   * @param test what cannot run, for the message ("the chaos namespace smoke (tier T2)")
   * @param missing what the machine lacks, one item each ("root (network namespaces need uid 0)")
   * @param remedy how to provide it
   */
  void require(String test, List<String> missing, String remedy) {
    if (missing.isEmpty()) {
      return;
    }
    boolean ci = underCi();
    String message =
        (ci ? "CI=true and " : "")
            + test
            + " cannot run on this host; missing: "
            + String.join("; ", missing)
            + ". "
            + remedy
            + (ci ? " Under CI a missing requirement fails the build instead of skipping." : "");
    String rule = "#".repeat(78);
    String banner =
        "\n" + rule + "\n# " + (ci ? "FAILED: " : "SKIPPED: ") + message + "\n" + rule + "\n";
    System.err.println(banner);
    System.out.println(banner);
    if (ci) {
      throw new AssertionFailedError(message);
    }
    Assumptions.abort(message);
  }
}
