/** Ways to give the explorer an image: a file, a dataset sample, a drawing, or the camera. */
import { useRef, useState } from 'preact/hooks';

export interface DatasetInfo {
  name: string;
  length: number;
  classes: string[];
}

const DRAW_SIZE = 140;

export function InputPicker(props: {
  data: DatasetInfo[];
  onImage(image: Blob, name: string): void;
  onError(message: string): void;
}) {
  const [dataset, setDataset] = useState(0);
  const [sample, setSample] = useState(0);
  const canvas = useRef<HTMLCanvasElement>(null);
  const video = useRef<HTMLVideoElement>(null);
  const [camera, setCamera] = useState<MediaStream>();
  const drawing = useRef(false);

  async function useSample() {
    const d = props.data[dataset];
    if (!d) return;
    const i = Math.min(Math.max(0, Math.floor(sample)), d.length - 1);
    const r = await fetch(`/api/data/${dataset}/${i}.png`);
    if (!r.ok) return props.onError(`sample ${i} of ${d.name} could not be fetched (${r.status})`);
    props.onImage(await r.blob(), `${d.name} #${i}`);
  }

  function clearDrawing() {
    const ctx = canvas.current!.getContext('2d')!;
    ctx.fillStyle = 'black';
    ctx.fillRect(0, 0, DRAW_SIZE, DRAW_SIZE);
  }

  function stroke(e: PointerEvent) {
    if (!drawing.current) return;
    const c = canvas.current!;
    const r = c.getBoundingClientRect();
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = 'white';
    ctx.beginPath();
    ctx.arc(
      ((e.clientX - r.left) / r.width) * DRAW_SIZE,
      ((e.clientY - r.top) / r.height) * DRAW_SIZE,
      7,
      0,
      2 * Math.PI,
    );
    ctx.fill();
  }

  async function startCamera() {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: true });
      setCamera(stream);
      requestAnimationFrame(() => {
        if (video.current) video.current.srcObject = stream;
      });
    } catch (e) {
      props.onError(`the camera is not available: ${(e as Error).message}`);
    }
  }

  function snap() {
    const v = video.current!;
    const side = Math.min(v.videoWidth, v.videoHeight);
    const c = new OffscreenCanvas(side, side);
    c.getContext('2d')!.drawImage(
      v,
      (v.videoWidth - side) / 2,
      (v.videoHeight - side) / 2,
      side,
      side,
      0,
      0,
      side,
      side,
    );
    void c.convertToBlob({ type: 'image/png' }).then((b) => props.onImage(b, 'camera'));
  }

  return (
    <div class="picker">
      <label>
        an image{' '}
        <input
          type="file"
          aria-label="image file"
          accept="image/*"
          onChange={(e) => {
            const input = e.target as HTMLInputElement;
            const f = input.files?.[0];
            input.value = ''; // the same file chosen again is a new choice
            if (f) props.onImage(f, f.name);
          }}
        />
      </label>
      {props.data.length > 0 && (
        <span>
          or a test sample of{' '}
          <select
            aria-label="dataset"
            value={dataset}
            onChange={(e) => setDataset(Number((e.target as HTMLSelectElement).value))}
          >
            {props.data.map((d, i) => (
              <option value={i}>
                {d.name} ({d.length})
              </option>
            ))}
          </select>{' '}
          <input
            type="number"
            aria-label="sample"
            min={0}
            value={sample}
            style={{ width: '5em' }}
            onChange={(e) => setSample(Number((e.target as HTMLInputElement).value))}
          />{' '}
          <button type="button" onClick={useSample}>
            use sample
          </button>
        </span>
      )}
      <span>
        or draw{' '}
        <canvas
          ref={(c) => {
            (canvas as { current: HTMLCanvasElement | null }).current = c;
            if (c && !c.dataset.ready) {
              c.dataset.ready = '1';
              c.width = DRAW_SIZE;
              c.height = DRAW_SIZE;
              clearDrawing();
            }
          }}
          aria-label="drawing"
          class="draw"
          onPointerDown={(e) => {
            drawing.current = true;
            stroke(e);
          }}
          onPointerMove={stroke}
          onPointerUp={() => {
            drawing.current = false;
            canvas.current!.toBlob((b) => b && props.onImage(b, 'drawing'));
          }}
        />{' '}
        <button type="button" onClick={clearDrawing}>
          clear
        </button>
      </span>
      {'mediaDevices' in navigator && (
        <span>
          {camera ? (
            <>
              <video ref={video} autoplay muted playsInline class="camera" />{' '}
              <button type="button" onClick={snap}>
                snap
              </button>
            </>
          ) : (
            <button type="button" onClick={startCamera}>
              camera
            </button>
          )}
        </span>
      )}
    </div>
  );
}
