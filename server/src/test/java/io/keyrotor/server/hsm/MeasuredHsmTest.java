package io.keyrotor.server.hsm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keyrotor.hsm.Hsm;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link MeasuredHsm} wraps the node's HSM, so an {@link Hsm} method it does not override answers
 * with the interface's default instead of the device's: the audit signing key, for one, would look
 * absent ("this HSM holds no audit signing keys") on every node. Every method must pass through.
 */
class MeasuredHsmTest {
  @Test
  void everyHsmMethod_isOverridden_soNoneFallsBackToTheInterfacesDefault() {
    List<String> missing = new ArrayList<>();
    for (Method method : Hsm.class.getMethods()) {
      if (Modifier.isStatic(method.getModifiers())) {
        continue;
      }
      try {
        Method own = MeasuredHsm.class.getMethod(method.getName(), method.getParameterTypes());
        // Its own, or ForwardingHsm's pass-through: anything but the interface's default.
        if (own.getDeclaringClass().isInterface()) {
          missing.add(method.getName());
        }
      } catch (NoSuchMethodException e) {
        missing.add(method.getName());
      }
    }
    assertEquals(List.of(), missing, "Hsm methods MeasuredHsm does not pass through");
  }
}
