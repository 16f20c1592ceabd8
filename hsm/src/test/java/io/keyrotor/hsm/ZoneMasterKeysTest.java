package io.keyrotor.hsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ZoneMasterKeysTest {

  @Test
  void zoneNames_lowerCaseLettersDigitsAndPunctuation_areValid() {
    assertTrue(ZoneMasterKeys.isValidZone("eu"));
    assertTrue(ZoneMasterKeys.isValidZone("us-east-1.prod_2"));
    assertFalse(ZoneMasterKeys.isValidZone("EU"), "PKCS12 aliases fold case");
    assertFalse(ZoneMasterKeys.isValidZone("eu/1"));
    assertFalse(ZoneMasterKeys.isValidZone("-eu"));
    assertFalse(ZoneMasterKeys.isValidZone(""));
    assertFalse(ZoneMasterKeys.isValidZone("a".repeat(64)));
    assertEquals(
        HsmException.Reason.INVALID_REQUEST,
        assertThrows(HsmException.class, () -> ZoneMasterKeys.requireValidZone("no zone"))
            .reason());
  }

  @Test
  void labelAndAlias_parseBackToTheirId() {
    ZoneMasterKeyId id = new ZoneMasterKeyId("eu", 12);

    assertEquals("keyrotor-zmk/eu/12", ZoneMasterKeys.label("eu", 12));
    assertEquals("zmk/eu/12", ZoneMasterKeys.alias("eu", 12));
    assertEquals(Optional.of(id), ZoneMasterKeys.parseLabel("keyrotor-zmk/eu/12"));
    assertEquals(Optional.of(id), ZoneMasterKeys.parseAlias("zmk/eu/12"));
    assertEquals(Optional.empty(), ZoneMasterKeys.parseLabel("keyrotor-zmk/eu/0"));
    assertEquals(Optional.empty(), ZoneMasterKeys.parseLabel("keyrotor-zmk/eu/x"));
    assertEquals(Optional.empty(), ZoneMasterKeys.parseLabel("other/eu/1"));
    assertEquals(Optional.empty(), ZoneMasterKeys.parseLabel(null));
  }

  @Test
  void checkValue_isTheFirstThreeBytesInUpperCaseHex() {
    // AES-256 with an all-zero key on a zero block (FIPS-197 style known answer).
    byte[] block = HexFormat.of().parseHex("dc95c078a2408989ad48a21492842087");

    assertEquals("DC95C0", ZoneMasterKeys.formatCheckValue(block));
  }

  @Test
  void wrappableLength_rfc3394NeedsMultiplesOf8FromSixteen() {
    assertEquals(
        HsmException.Reason.INVALID_REQUEST,
        assertThrows(
                HsmException.class,
                () -> ZoneMasterKeys.requireWrappableLength(WrapMechanism.AES_KEY_WRAP, 20))
            .reason());
    assertThrows(
        HsmException.class,
        () -> ZoneMasterKeys.requireWrappableLength(WrapMechanism.AES_KEY_WRAP, 8));
    assertThrows(
        HsmException.class, () -> ZoneMasterKeys.requireWrappableLength(WrapMechanism.AES_GCM, 0));
  }

  @Test
  void configToString_neverShowsSecrets() {
    HsmConfig software =
        HsmConfig.software(java.nio.file.Path.of("k.p12"), "secret-pass".toCharArray());
    HsmConfig pkcs11 =
        HsmConfig.pkcs11(java.nio.file.Path.of("/m.so"), "t", "secret-pin".toCharArray());

    assertFalse(software.toString().contains("secret"), software.toString());
    assertFalse(pkcs11.toString().contains("secret"), pkcs11.toString());
  }
}
