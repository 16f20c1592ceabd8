package io.keyrotor.storage.apply;

/**
 * The transition of one command kind: {@code command} applied in {@code context} -> {@link
 * Effects}. Deterministic; a rule violation is a refusal among the effects, never an exception.
 *
 * @param <C> the command's body
 */
@FunctionalInterface
public interface CommandHandler<C> {
  Effects apply(C command, CommandContext context);
}
