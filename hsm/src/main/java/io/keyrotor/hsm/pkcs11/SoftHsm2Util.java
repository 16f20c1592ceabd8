package io.keyrotor.hsm.pkcs11;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Token initialisation with SoftHSM2's own tool, {@code softhsm2-util} (named by {@link
 * Pkcs11Ceremonies#SOFTHSM2_UTIL_PROPERTY}, else found on the PATH), its output captured through a
 * pipe and never inherited.
 */
final class SoftHsm2Util {
  private static final Logger LOG = LoggerFactory.getLogger(SoftHsm2Util.class);

  private SoftHsm2Util() {}

  /** See {@link Pkcs11Ceremonies#initToken}. */
  static void initToken(TokenLocator token, char[] soPin, char[] userPin) throws HsmException {
    String util = System.getProperty(Pkcs11Ceremonies.SOFTHSM2_UTIL_PROPERTY, "softhsm2-util");
    String slots = run(List.of(util, "--show-slots"), "listing SoftHSM2 slots");
    for (String line : slots.split("\n", -1)) {
      String trimmed = line.strip();
      if (trimmed.startsWith("Label:")
          && trimmed.substring("Label:".length()).strip().equals(token.tokenLabel())) {
        throw new HsmException(
            Reason.REFUSED,
            "a SoftHSM2 token labelled '" + token.tokenLabel() + "' already exists; unchanged");
      }
    }
    run(
        List.of(
            util,
            "--init-token",
            "--free",
            "--label",
            token.tokenLabel(),
            "--so-pin",
            new String(soPin),
            "--pin",
            new String(userPin)),
        "initialising SoftHSM2 token '" + token.tokenLabel() + "'");
    LOG.info("initialised SoftHSM2 token '{}'", token.tokenLabel());
  }

  /** Runs a tool with its output captured through a pipe (never inherited); returns stdout. */
  private static String run(List<String> command, String what) throws HsmException {
    Process process;
    try {
      process =
          new ProcessBuilder(command)
              .redirectInput(ProcessBuilder.Redirect.PIPE)
              .redirectErrorStream(true)
              .start();
    } catch (IOException e) {
      throw new HsmException(
          Reason.HSM_UNAVAILABLE,
          what
              + ": cannot run "
              + command.get(0)
              + " ("
              + e.getMessage()
              + "); install the Debian package softhsm2 (scripts/test installs it)",
          e);
    }
    try (InputStream out = process.getInputStream()) {
      process.getOutputStream().close();
      byte[] output = out.readNBytes(1 << 20);
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new HsmException(Reason.HSM_UNAVAILABLE, what + ": " + command.get(0) + " hung");
      }
      String text = new String(output, StandardCharsets.UTF_8);
      if (process.exitValue() != 0) {
        // softhsm2-util's messages name slots and labels, never PINs.
        throw new HsmException(
            Reason.HSM_UNAVAILABLE,
            what + " failed (exit " + process.exitValue() + "): " + text.strip());
      }
      return text;
    } catch (IOException e) {
      throw new HsmException(Reason.HSM_UNAVAILABLE, what + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new HsmException(Reason.HSM_UNAVAILABLE, what + ": interrupted");
    }
  }
}
