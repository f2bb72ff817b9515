/**
 * The embedded default scenario (`npm start`, `cma-emu simulate` without a file): the question of the
 * linux-arm-kernel thread "CMA region and highmem", answered end to end. A 3G/1G kernel on a 2 GiB
 * board with cma=512M and a video-heavy driver mix, compared across CMA in lowmem (3.17 rules), CMA in
 * highmem (3.18+ rules, here the oracle-checked 6.1), highmem with DMA_ATTR_NO_KERNEL_MAPPING for the
 * video devices, and VMSPLIT_2G. Kept as YAML text so that `simulate --print-scenario` shows it with
 * its comments, as a starting point for one's own.
 */
export const DEFAULT_SCENARIO_YAML = `# The thread's question: where should a 512 MiB CMA area live on a 3G/1G ARM kernel with 2 GiB?
name: cma-highmem-thread
description: >-
  3G/1G kernel, 2 GiB board, cma=512M, camera + video decoder + display + GPU + USB + network,
  compared across CMA in lowmem (3.17 rules), CMA in highmem (3.18+ rules),
  highmem with DMA_ATTR_NO_KERNEL_MAPPING for the video devices, and VMSPLIT_2G.
seed: 1
ops: 1000000            # DMA-API operations (allocations + frees) per configuration

machine:                # the same names as the options of \`cma-emu boot\`
  kernel: "6.1"
  split: 3G
  ram: 0x40000000:2G
  cmdline: cma=512M
  kconfig:
    CONFIG_CMA_ALIGNMENT: 8

runtime:
  movableShare: 0.5     # half of the free CMA pages are lent to movable (user) allocations
  pinProbability: 0.0002  # some of them pinned by get_user_pages: alloc_contig_range -EBUSY

devices:
  - { name: isp, coherent: false }             # camera image signal processor
  - { name: vpu, coherent: false }             # video decoder
  - { name: display, coherent: false }         # scanout
  - { name: gpu, coherent: false }
  - { name: usb, coherent: false, atomic: true }  # GFP_ATOMIC transfer buffers (atomic pool)
  - { name: eth, coherent: false }

workloads:
  - kind: pipeline      # camera: 8 NV12 frames, reallocated on every resolution change
    name: camera
    device: isp
    format: NV12
    resolutions: [1080p, 2160p, 720p]
    buffers: 8
    changeEvery: 25s
  - kind: pipeline      # decoder: 16 reference + output frames, reallocated per stream
    name: decoder-frames
    device: vpu
    format: NV12
    resolutions: [1080p, 720p, 2160p, 1080p]
    buffers: 16
    changeEvery: 40s
  - kind: stream        # decoder bitstream buffers
    name: decoder-bitstream
    device: vpu
    size: { logNormal: { median: 512K, sigma: 0.5, max: 4M } }
    ratePerSecond: 60
    lifetime: { exponential: { mean: 500ms } }
  - kind: pipeline      # triple-buffered 1080p ARGB scanout
    name: scanout
    device: display
    format: ARGB8888
    resolutions: [1080p]
    buffers: 3
  - kind: stream        # GPU buffer objects: many, small to medium, short-lived
    name: gpu-bo
    device: gpu
    size: { logNormal: { median: 96K, sigma: 1.3, max: 8M } }
    ratePerSecond: 1500
    lifetime: { exponential: { mean: 40ms } }
    burst: { every: 2s, count: 40 }
  - kind: stream
    name: usb-urb
    device: usb
    size: { table: [{ value: 4K, weight: 70 }, { value: 16K, weight: 25 }, { value: 64K, weight: 5 }] }
    ratePerSecond: 200
    lifetime: { exponential: { mean: 5ms } }
  - kind: stream        # descriptor rings, allocated once at probe
    name: eth-rings
    device: eth
    size: 64K
    initial: 4
  - kind: stream        # device register windows
    name: ioremaps
    api: ioremap
    size: { logNormal: { median: 16K, sigma: 1.2, max: 2M } }
    initial: 120
  - kind: stream
    name: modules
    api: module
    size: { logNormal: { median: 40K, sigma: 1, max: 1M } }
    initial: 60

configurations:
  - name: lowmem CMA (3.17)
    description: before 3.18 the default CMA area is limited to lowmem
    machine: { kernel: "3.17" }
  - name: highmem CMA (6.1)
    description: from 3.18 an automatically placed area goes to highmem first
  - name: highmem + NO_KERNEL_MAPPING
    description: the video devices ask for no kernel mapping (their buffers are never touched by the CPU)
    devices:
      isp: { noKernelMapping: true }
      vpu: { noKernelMapping: true }
      display: { noKernelMapping: true }
  - name: VMSPLIT_2G (6.1)
    description: PAGE_OFFSET 0x80000000, so most of the 2 GiB is lowmem
    machine: { split: 2G }
`;
