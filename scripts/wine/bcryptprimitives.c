/* A stand-in for Windows' bcryptprimitives.dll, for Wine 8.0 only.
 *
 * Rust's standard library for x86_64-pc-windows-gnu takes its randomness (HashMap seeds) from
 * ProcessPrng in bcryptprimitives.dll, which Wine added in 8.13. Debian's Wine 8.0 lacks it, so
 * every Rust program fails to load there. This forwards ProcessPrng to BCryptGenRandom, which
 * Wine 8.0 has. It is installed into the test prefix's system32 by scripts/wine/prefix and never
 * shipped. */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
    if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) {
      return FALSE;
    }
    data += chunk;
    len -= chunk;
  }
  return TRUE;
}
