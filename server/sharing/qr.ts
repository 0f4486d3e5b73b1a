import QRCode from 'qrcode';

/** QR codes' SVG by the address they encode; an address is a letter's shared link, so few of them. */
const MAX_CODES = 1_000;

/**
 * QR codes of letters' shared links (qr.svg), for printed material: error correction M (a code still
 * reads with some of it smudged or covered) and the standard quiet zone of four modules. Kept once made.
 */
export class QrCodes {
  private readonly codes = new Map<string, Promise<string>>();

  /** The SVG of a QR code of `url`. */
  svg(url: string): Promise<string> {
    let code = this.codes.get(url);
    if (!code) {
      if (this.codes.size >= MAX_CODES) this.codes.clear();
      code = qrSvg(url);
      this.codes.set(url, code);
      // A failure is not kept: the next request tries again.
      code.catch(() => this.codes.delete(url));
    }
    return code;
  }
}

/** The options every QR code here is made with (a test makes the same code with them). */
export const QR_OPTIONS = { type: 'svg', errorCorrectionLevel: 'M', margin: 4, width: 512 } as const;

/** A QR code of `text` as SVG. */
export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, QR_OPTIONS);
}
