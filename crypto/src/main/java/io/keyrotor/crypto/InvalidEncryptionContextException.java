package io.keyrotor.crypto;

import java.util.Objects;

/**
 * An encryption context that breaks a rule of {@link EncryptionContext}. The message names the rule
 * and never repeats a key or value of the context.
 */
public final class InvalidEncryptionContextException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** Which rule the context breaks. */
  public enum Rule {
    /** A key or a value is null (a map that allows nulls). */
    NO_NULLS,
    /** A key is the empty string. */
    KEYS_NOT_EMPTY,
    /** A key or a value is not valid Unicode: it holds an unpaired surrogate. */
    VALID_UNICODE,
    /** The canonical encoding would be longer than {@link EncryptionContext#MAX_ENCODED_BYTES}. */
    AT_MOST_MAX_ENCODED_BYTES
  }

  private final Rule rule;

  InvalidEncryptionContextException(Rule rule, String message) {
    super(message);
    this.rule = Objects.requireNonNull(rule, "rule");
  }

  /** The rule the context breaks. */
  public Rule rule() {
    return rule;
  }
}
