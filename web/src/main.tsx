// The app shell: the session, the header and navigation, and the page for the current URL.
import "./styles.css";
import "uplot/dist/uPlot.min.css";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { request, setUnauthenticatedHandler } from "./api/client";
import { AccountsPage } from "./pages/accounts";
import { AnalyticsRoute } from "./pages/analytics-route";
import { DataPage } from "./pages/data";
import { HistoryPage } from "./pages/history";
import { ScheduledPage } from "./pages/scheduled";
import { PostPage } from "./pages/post";
import { SignInPage } from "./pages/signin";
import { StatusPage } from "./pages/status";
import { UploadPage } from "./pages/upload";
import { VideosPage } from "./pages/videos";
import { Link, navigate, useLocation, withQuery } from "./router";
import { loadSession, signedOut, useSession } from "./session";
import { Avatar, ErrorMessage, Loading } from "./ui";

const NAV = [
  { href: "/accounts", label: "Accounts" },
  { href: "/post", label: "Post to TikTok" },
  { href: "/scheduled", label: "Scheduled" },
  { href: "/history", label: "History" },
  { href: "/videos", label: "Videos" },
  { href: "/data", label: "My data" },
];

setUnauthenticatedHandler(() => {
  // Several requests may fail at once: the first one decides where to come back to.
  if (window.location.pathname !== "/signin") {
    const here = window.location.pathname + window.location.search;
    navigate(withQuery("/signin", { next: here, expired: "1" }), { replace: true });
  }
  signedOut();
});

function Page({ path, query }: { path: string; query: URLSearchParams }) {
  const status = /^\/posts\/([^/]+)$/.exec(path);
  const upload = /^\/posts\/([^/]+)\/upload$/.exec(path);
  const analytics = /^\/accounts\/([^/]+)\/analytics$/.exec(path);
  if (path === "/accounts") return <AccountsPage query={query} />;
  if (analytics) return <AnalyticsRoute openId={decodeURIComponent(analytics[1]!)} query={query} />;
  if (path === "/post") return <PostPage query={query} />;
  if (upload) return <UploadPage postId={decodeURIComponent(upload[1]!)} />;
  if (status) return <StatusPage postId={decodeURIComponent(status[1]!)} />;
  if (path === "/history") return <HistoryPage query={query} />;
  if (path === "/scheduled") return <ScheduledPage />;
  if (path === "/videos") return <VideosPage query={query} />;
  if (path === "/data") return <DataPage />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. <Link href="/accounts">Go to your accounts</Link>.
      </p>
    </section>
  );
}

function SignOutButtons() {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const signOut = async (everywhere: boolean) => {
    setBusy(true);
    setError(null);
    try {
      await request("/api/session", { method: "DELETE", query: { everywhere: everywhere ? "true" : null } });
      signedOut();
      navigate(withQuery("/signin", { signed_out: everywhere ? "everywhere" : "1" }));
    } catch (exc) {
      setError(exc);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="signout">
      <button type="button" class="button-quiet" disabled={busy} onClick={() => signOut(false)}>
        Sign out
      </button>
      <button type="button" class="button-quiet" disabled={busy} onClick={() => signOut(true)}>
        Sign out everywhere
      </button>
      {error !== null && <ErrorMessage error={error} />}
    </div>
  );
}

function App() {
  const session = useSession();
  const { path, query } = useLocation();

  useEffect(() => {
    void loadSession();
  }, []);

  useEffect(() => {
    if (session.kind === "signed-out" && path !== "/signin") {
      navigate(withQuery("/signin", { next: path === "/" ? null : path + window.location.search }), {
        replace: true,
      });
    }
    if (session.kind === "signed-in" && (path === "/" || path === "/signin")) {
      const next = query.get("next");
      // Only a path of this app: never another site.
      navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/accounts", { replace: true });
    }
  }, [session.kind, path]);

  useEffect(() => {
    const page =
      NAV.find((item) => path === item.href)?.label ??
      (path === "/signin" ? "Sign in" : path.endsWith("/analytics") ? "Analytics" : path.endsWith("/upload") ? "Uploading" : path.startsWith("/posts/") ? "Post status" : null);
    document.title = page ? `${page} · Publisher for TikTok` : "Publisher for TikTok";
  }, [path]);

  if (session.kind === "loading") {
    return (
      <main id="main" class="main">
        <Loading what="your session" />
      </main>
    );
  }
  if (session.kind === "signed-out" || path === "/signin") {
    return (
      <>
        <header class="header">
          <span class="brand">Publisher for TikTok</span>
        </header>
        <main id="main" class="main">
          <SignInPage query={query} />
        </main>
      </>
    );
  }
  const user = session.user;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="header">
        <Link href="/accounts" class="brand">
          Publisher for TikTok
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.href}>
                <Link href={item.href} aria-current={path === item.href ? "page" : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="user">
          <Avatar url={user.picture} name={user.name || user.email || "?"} size={32} />
          <span class="user-name">{user.name || user.email}</span>
          <SignOutButtons />
        </div>
      </header>
      <main id="main" class="main" tabIndex={-1}>
        <Page key={path} path={path} query={query} />
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
