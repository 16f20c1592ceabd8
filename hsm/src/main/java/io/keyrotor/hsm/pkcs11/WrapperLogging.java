package io.keyrotor.hsm.pkcs11;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.StaticLogger;

/**
 * Sends ipkcs11wrapper's own log lines to SLF4J before the wrapper prints anything (by default it
 * prints its license text and every session opened to standard output).
 *
 * <p>Its INFO lines become DEBUG under {@code org.xipki.pkcs11}; its DEBUG and TRACE lines, which
 * can show attribute templates, are dropped whatever the log configuration, so key values can never
 * reach a log.
 */
final class WrapperLogging {
  private static final Logger LOG = LoggerFactory.getLogger("org.xipki.pkcs11");
  private static boolean installed;

  private WrapperLogging() {}

  /** Installs the bridge; call before the first use of any other wrapper class. */
  static synchronized void install() {
    if (!installed) {
      StaticLogger.setLogger(new Bridge());
      installed = true;
    }
  }

  private static final class Bridge implements org.xipki.pkcs11.wrapper.Logger {
    @Override
    public void info(String format, Object... arguments) {
      LOG.debug(format, arguments);
    }

    @Override
    public void warn(String format, Object... arguments) {
      LOG.warn(format, arguments);
    }

    @Override
    public void error(String format, Object... arguments) {
      LOG.error(format, arguments);
    }

    @Override
    public void debug(String format, Object... arguments) {}

    @Override
    public void trace(String format, Object... arguments) {}

    @Override
    public boolean isDebugEnabled() {
      return false;
    }

    @Override
    public boolean isInfoEnabled() {
      return LOG.isDebugEnabled();
    }

    @Override
    public boolean isWarnEnabled() {
      return LOG.isWarnEnabled();
    }

    @Override
    public boolean isTraceEnabled() {
      return false;
    }
  }
}
