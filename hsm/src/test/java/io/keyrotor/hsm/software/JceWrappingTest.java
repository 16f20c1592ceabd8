package io.keyrotor.hsm.software;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.WrapMechanism;
import io.keyrotor.hsm.ZoneMasterKeyId;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** Known-answer tests from the RFCs: the formats every implementation must agree on. */
class JceWrappingTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final ZoneMasterKeyId ID = new ZoneMasterKeyId("eu", 1);

  @Test
  void aesKeyWrapPad_matchesRfc5649Section6() throws HsmException {
    SecretKeySpec kek = aes("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8");
    byte[] key = HEX.parseHex("c37b7e6492584340bed12207808941155068f738");
    byte[] expected =
        HEX.parseHex("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a");

    assertArrayEquals(
        expected, JceWrapping.wrap(WrapMechanism.AES_KEY_WRAP_PAD, kek, ID, key, null));
    assertArrayEquals(key, JceWrapping.unwrap(WrapMechanism.AES_KEY_WRAP_PAD, kek, ID, expected));
  }

  @Test
  void aesKeyWrap_matchesRfc3394Section4_1() throws HsmException {
    SecretKeySpec kek = aes("000102030405060708090a0b0c0d0e0f");
    byte[] key = HEX.parseHex("00112233445566778899aabbccddeeff");
    byte[] expected = HEX.parseHex("1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5");

    assertArrayEquals(expected, JceWrapping.wrap(WrapMechanism.AES_KEY_WRAP, kek, ID, key, null));
    assertArrayEquals(key, JceWrapping.unwrap(WrapMechanism.AES_KEY_WRAP, kek, ID, expected));
  }

  @Test
  void aesGcm_isNonceThenCiphertextThenTag() throws HsmException {
    SecretKeySpec kek = aes("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    byte[] key = new byte[32];

    byte[] wrapped = JceWrapping.wrap(WrapMechanism.AES_GCM, kek, ID, key, new SecureRandom());

    assertEquals(12 + 32 + 16, wrapped.length);
    assertArrayEquals(key, JceWrapping.unwrap(WrapMechanism.AES_GCM, kek, ID, wrapped));
  }

  @Test
  void checkValue_ofTheAllZeroAes256Key_isDc95c0() throws HsmException {
    assertEquals("DC95C0", JceWrapping.checkValue(aes("00".repeat(32))));
  }

  private static SecretKeySpec aes(String hex) {
    return new SecretKeySpec(HEX.parseHex(hex), "AES");
  }
}
