// Reading a video's duration in the browser, before anything is uploaded or sent to TikTok.

/** The duration in seconds of the video at ``src`` (an object URL or an https URL). */
export function readVideoDuration(src: string, timeoutMs = 20000): Promise<number> {
  return new Promise((resolve, reject) => {
    const video = document.createElement("video");
    video.preload = "metadata";
    video.muted = true;
    const done = (fn: () => void) => {
      window.clearTimeout(timer);
      video.removeAttribute("src");
      video.load();
      fn();
    };
    const timer = window.setTimeout(
      () => done(() => reject(new Error("The video took too long to load, so its length could not be checked."))),
      timeoutMs,
    );
    video.onloadedmetadata = () => {
      if (Number.isFinite(video.duration) && video.duration > 0) {
        const duration = video.duration;
        done(() => resolve(duration));
        return;
      }
      // Some recordings carry no duration: seeking to the end makes the browser find it.
      video.ondurationchange = () => {
        if (Number.isFinite(video.duration) && video.duration > 0) {
          const duration = video.duration;
          done(() => resolve(duration));
        }
      };
      video.currentTime = Number.MAX_SAFE_INTEGER;
    };
    video.onerror = () =>
      done(() => reject(new Error("This browser cannot read this video, so its length could not be checked. TikTok accepts MP4, WebM and MOV.")));
    video.src = src;
  });
}
