/**
 * Frame buffer sizes of common pixel formats, as V4L2 / DRM drivers compute them: a luma (or
 * packed) plane of `stride x height` plus chroma planes, the stride rounded up to the hardware's
 * line alignment.
 */

/** Bytes per pixel of the first plane, and the size of the other planes relative to it. */
interface PixelFormat {
  bytesPerPixel: number;
  /** chroma planes' total size as a fraction of the first plane */
  chromaRatio: number;
}

export const PIXEL_FORMATS: Record<string, PixelFormat> = {
  NV12: { bytesPerPixel: 1, chromaRatio: 0.5 },
  NV21: { bytesPerPixel: 1, chromaRatio: 0.5 },
  YUV420: { bytesPerPixel: 1, chromaRatio: 0.5 },
  NV16: { bytesPerPixel: 1, chromaRatio: 1 },
  P010: { bytesPerPixel: 2, chromaRatio: 0.5 },
  YUYV: { bytesPerPixel: 2, chromaRatio: 0 },
  UYVY: { bytesPerPixel: 2, chromaRatio: 0 },
  RGB565: { bytesPerPixel: 2, chromaRatio: 0 },
  RGB888: { bytesPerPixel: 3, chromaRatio: 0 },
  ARGB8888: { bytesPerPixel: 4, chromaRatio: 0 },
  XRGB8888: { bytesPerPixel: 4, chromaRatio: 0 },
  ABGR8888: { bytesPerPixel: 4, chromaRatio: 0 },
};

/** Named resolutions; any "WIDTHxHEIGHT" is accepted too. */
export const RESOLUTIONS: Record<string, [number, number]> = {
  "480p": [720, 480],
  "576p": [720, 576],
  "720p": [1280, 720],
  "1080p": [1920, 1080],
  "1440p": [2560, 1440],
  "2160p": [3840, 2160],
  "4k": [3840, 2160],
};

/** [width, height] of a resolution name or "WxH"; undefined when it is neither. */
export function parseResolution(text: string): [number, number] | undefined {
  const named = RESOLUTIONS[text.toLowerCase()];
  if (named) return named;
  const m = /^(\d+)x(\d+)$/i.exec(text);
  if (!m) return undefined;
  const w = Number(m[1]);
  const h = Number(m[2]);
  return w > 0 && h > 0 ? [w, h] : undefined;
}

/** Size in bytes of one frame: stride = ALIGN(width x bpp, strideAlign), chroma planes on top. */
export function frameSizeBytes(format: string, width: number, height: number, strideAlign = 64): number {
  const f = PIXEL_FORMATS[format.toUpperCase()];
  if (!f) throw new RangeError(`unknown pixel format ${format}`);
  const stride = Math.ceil((width * f.bytesPerPixel) / strideAlign) * strideAlign;
  const plane = stride * height;
  return plane + Math.ceil(plane * f.chromaRatio);
}
