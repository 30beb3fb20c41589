// The analytics page's route: its module (and uPlot with it) is a separate chunk, fetched only
// when the page opens, so every other page keeps its small bundle.
import { useEffect, useState } from "preact/hooks";
import { ErrorMessage, Loading } from "../ui";

type Module = typeof import("./analytics");

export function AnalyticsRoute({ openId, query }: { openId: string; query: URLSearchParams }) {
  const [module, setModule] = useState<Module | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    import("./analytics").then(
      (loaded) => live && setModule(() => loaded),
      () => live && setError(new Error("The analytics page could not be loaded. Check your connection and reload.")),
    );
    return () => {
      live = false;
    };
  }, []);
  if (error !== null) return <ErrorMessage error={error} />;
  if (module === null) return <Loading what="the analytics page" />;
  return <module.AnalyticsPage openId={openId} query={query} />;
}
